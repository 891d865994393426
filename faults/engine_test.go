package faults_test

import (
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/rpcfleet/rpcfleet/faults"
)

func decisions(seed uint64, server int, plan faults.Plan, n int) []faults.Decision {
	e := faults.NewEngine(seed, server, server+1)
	e.SetPlan(plan)
	out := make([]faults.Decision, n)
	for i := range out {
		out[i] = e.Decide("Service.Method")
	}
	return out
}

func TestEngineIsDeterministic(t *testing.T) {
	plan := faults.MustParse("error=boom,p=0.3;delay=10ms,jitter=5ms,p=0.5")
	a := decisions(42, 3, plan, 500)
	b := decisions(42, 3, plan, 500)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed and server gave different decisions")
	}
	if reflect.DeepEqual(a, decisions(43, 3, plan, 500)) {
		t.Error("another seed gave the same decisions")
	}
	if reflect.DeepEqual(a, decisions(42, 4, plan, 500)) {
		t.Error("another server gave the same decisions")
	}
}

func TestEngineRollsPerCall(t *testing.T) {
	const n, p = 20000, 0.25
	hits := 0
	for i, d := range decisions(7, 0, faults.MustParse("error=boom,p=0.25"), n) {
		if d.Call != uint64(i+1) {
			t.Fatalf("call %d numbered %d", i+1, d.Call)
		}
		if d.Rule == 0 {
			hits++
		}
	}
	// Five standard deviations: this cannot fail by chance in practice.
	sd := math.Sqrt(n * p * (1 - p))
	if got := float64(hits); math.Abs(got-n*p) > 5*sd {
		t.Errorf("rule applied to %d of %d calls, want about %.0f", hits, n, n*p)
	}
}

func TestEngineFirstMatchingRuleWins(t *testing.T) {
	for _, d := range decisions(1, 0, faults.MustParse("hang;error=never"), 10) {
		if d.Rule != 0 || d.Fault != (faults.Hang{}) {
			t.Fatalf("decision %+v, want rule 0 (hang)", d)
		}
	}
	for _, d := range decisions(1, 0, faults.Plan{}, 3) {
		if d.Rule != -1 || d.Fault != nil {
			t.Fatalf("empty plan decided %+v", d)
		}
	}
}

func TestDelayJitterStaysInRange(t *testing.T) {
	const d, j = 50 * time.Millisecond, 10 * time.Millisecond
	seen := map[bool]bool{}
	for _, dec := range decisions(9, 1, faults.MustParse("delay=50ms,jitter=10ms"), 2000) {
		if dec.Delay < d-j || dec.Delay > d+j {
			t.Fatalf("delay %v outside %v±%v", dec.Delay, d, j)
		}
		seen[dec.Delay < d] = true
	}
	if len(seen) != 2 {
		t.Error("jitter never went both ways")
	}
	for _, dec := range decisions(9, 1, faults.MustParse("delay=1ms,jitter=5ms"), 500) {
		if dec.Delay < 0 {
			t.Fatalf("negative delay %v", dec.Delay)
		}
	}
}

func TestRefusalsInTimeOrderMerged(t *testing.T) {
	e := faults.NewEngine(1, 0, 1)
	e.SetPlan(faults.MustParse("refuse,from=2500ms,for=1s;refuse,for=2s;refuse,from=1500ms,for=1s;refuse,from=10s"))
	ws := e.Refusals()
	if len(ws) != 2 {
		t.Fatalf("windows %+v, want [0s,3.5s) merged and [10s, until replaced)", ws)
	}
	if got := ws[0].End.Sub(ws[0].Start); got != 3500*time.Millisecond {
		t.Errorf("first window lasts %v, want 3.5s (0-2s, 1.5-2.5s and 2.5-3.5s merged)", got)
	}
	if !ws[1].End.IsZero() || ws[1].Start.Sub(ws[0].Start) != 10*time.Second {
		t.Errorf("second window %+v, want from 10s on", ws[1])
	}
}

func TestBlackholesAreWindowsOfTheirOwn(t *testing.T) {
	e := faults.NewEngine(1, 1, 3)
	e.SetPlan(faults.MustParse("blackhole,servers=1,from=1s,for=2s;refuse;blackhole,servers=0;blackhole,servers=1,from=2s,for=2s"))
	ws := e.Blackholes()
	if len(ws) != 1 || ws[0].End.Sub(ws[0].Start) != 3*time.Second {
		t.Fatalf("windows %+v, want one of 3s (1-3s and 2-4s merged; server 0's and refuse left out)", ws)
	}
	if rs := e.Refusals(); len(rs) != 1 || !rs[0].End.IsZero() {
		t.Errorf("refusals %+v, want the refuse rule's alone", rs)
	}
	for range 5 {
		if d := e.Decide("Service.Method"); d.Fault != nil {
			t.Fatalf("a call was decided to %v, want no call fault", d.Fault)
		}
	}
	if d := e.DecideAccept(); d.Fault != nil {
		t.Errorf("a connection was decided to %v, want none", d.Fault)
	}
}
