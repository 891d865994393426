package inject_test

import (
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/internal/inject"
)

func decisions(seed uint64, server int, plan faults.Plan, n int) []inject.Decision {
	e := inject.NewEngine(seed, server, server+1)
	e.SetFaults(plan)
	out := make([]inject.Decision, n)
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

func TestEngineFirstRuleOfEachPartWins(t *testing.T) {
	const ms = time.Millisecond
	hang, later := faults.Hang{}, faults.Error{Msg: "later"}
	plan := faults.MustParse("hang,first=5;error=later;delay=10ms,first=3;delay=20ms")
	want := []struct {
		rule      int
		fault     faults.Fault
		delayRule int
		delay     time.Duration
	}{
		{0, hang, 2, 10 * ms}, {0, hang, 2, 10 * ms}, {0, hang, 2, 10 * ms},
		{0, hang, 3, 20 * ms}, {0, hang, 3, 20 * ms},
		{1, later, 3, 20 * ms}, {1, later, 3, 20 * ms},
	}
	for i, d := range decisions(1, 0, plan, len(want)) {
		w := want[i]
		if d.Rule != w.rule || d.Fault != w.fault || d.DelayRule != w.delayRule || d.Delay != w.delay {
			t.Errorf("call %d: decision %+v, want outcome rule %d (%v), delay rule %d (%v)",
				i+1, d, w.rule, w.fault, w.delayRule, w.delay)
		}
	}
	for _, d := range decisions(1, 0, faults.Plan{}, 3) {
		if d.Rule != -1 || d.Fault != nil || d.DelayRule != -1 || d.Delay != 0 {
			t.Fatalf("empty plan decided %+v", d)
		}
	}
}

// A delay and an outcome both apply to a call; either part may be missing.
func TestEngineDecidesBothParts(t *testing.T) {
	tests := []struct {
		plan      string
		rule      int
		fault     faults.Fault
		delayRule int
		delay     time.Duration
	}{
		{"delay=300ms;error=boom", 1, faults.Error{Msg: "boom"}, 0, 300 * time.Millisecond},
		{"error=boom;delay=300ms", 0, faults.Error{Msg: "boom"}, 1, 300 * time.Millisecond},
		{"delay=300ms;drop", 1, faults.Drop{}, 0, 300 * time.Millisecond},
		{"delay=300ms", -1, nil, 0, 300 * time.Millisecond},
		{"error=boom", 0, faults.Error{Msg: "boom"}, -1, 0},
		{"delay=1s,method=Other.Method;error=boom,method=Other.Method;hang", 2, faults.Hang{}, -1, 0},
		{"slowaccept=1s;delay=5ms", -1, nil, 1, 5 * time.Millisecond},
		{"refuse,from=1h;throttle=1KB", 1, faults.Throttle{Rate: 1000}, -1, 0},
	}
	for _, tt := range tests {
		d := decisions(1, 0, faults.MustParse(tt.plan), 1)[0]
		if d.Rule != tt.rule || d.Fault != tt.fault || d.DelayRule != tt.delayRule || d.Delay != tt.delay {
			t.Errorf("%q: decision %+v, want outcome rule %d (%v), delay rule %d (%v)",
				tt.plan, d, tt.rule, tt.fault, tt.delayRule, tt.delay)
		}
	}
}

// Two engines with the same seed, server and calls decide both parts
// alike, delays drawn and corrupt noise included.
func TestEngineReplaysBothParts(t *testing.T) {
	plan := faults.MustParse("delay=exponential,mean=5ms,p=0.5;corrupt,p=0.3;delay=10ms,jitter=5ms;error=x,p=0.5")
	a := decisions(5, 2, plan, 1000)
	if !reflect.DeepEqual(a, decisions(5, 2, plan, 1000)) {
		t.Fatal("same seed and server gave different decisions")
	}
	if reflect.DeepEqual(a, decisions(6, 2, plan, 1000)) {
		t.Error("another seed gave the same decisions")
	}
	seen := map[[2]int]bool{}
	for _, d := range a {
		seen[[2]int{d.DelayRule, d.Rule}] = true
	}
	for _, want := range [][2]int{{0, 1}, {0, 3}, {0, -1}, {2, 1}, {2, 3}, {2, -1}} {
		if !seen[want] {
			t.Errorf("no call had delay rule %d and outcome rule %d: %v", want[0], want[1], seen)
		}
	}
}

// A rule whose part is already decided rolls nothing: the draws depend only
// on the rules that could still apply.
func TestEngineDecidedPartDrawsNothing(t *testing.T) {
	with := decisions(3, 0, faults.MustParse("error=a,first=100;error=b,p=0.5;delay=10ms,jitter=5ms"), 100)
	without := decisions(3, 0, faults.MustParse("error=a,first=100;delay=10ms,jitter=5ms"), 100)
	for i := range with {
		if with[i].Delay != without[i].Delay || with[i].Rule != 0 {
			t.Fatalf("call %d: %+v, %+v: rule 2 (error=b,p=0.5) drew from the PRNG for a call rule 1 had decided",
				i+1, with[i], without[i])
		}
	}
}

// A window that ends beyond the largest time.Duration lasts, rather than
// overflowing into one that has already ended.
func TestEngineLongWindow(t *testing.T) {
	e := inject.NewEngine(1, 0, 1)
	e.SetFaults(faults.MustParse("error=a,from=1ms,for=2562047h47m16.854775807s"))
	time.Sleep(2 * time.Millisecond)
	if d := e.Decide("Service.Method"); d.Rule != 0 {
		t.Errorf("decision %+v, want rule 0 in its window", d)
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
	e := inject.NewEngine(1, 0, 1)
	e.SetFaults(faults.MustParse("refuse,from=2500ms,for=1s;refuse,for=2s;refuse,from=1500ms,for=1s;refuse,from=10s"))
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
	e := inject.NewEngine(1, 1, 3)
	e.SetFaults(faults.MustParse("blackhole,servers=1,from=1s,for=2s;refuse;blackhole,servers=0;blackhole,servers=1,from=2s,for=2s"))
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

// An engine reseeded and given a new plan (as a renewed server's is)
// decides as a new one with that seed and fleet size, whatever the old one
// drew and counted: the PRNG, the counts and a share-of-the-fleet rule's
// pick all start again.
func TestEngineReseededIsANewEngine(t *testing.T) {
	plan := faults.MustParse("error=boom,p=0.3;delay=10ms,jitter=5ms,p=0.5;error=picked,servers=50%,first=3")
	for _, size := range []int{4, 9} {
		e := inject.NewEngine(42, 3, 5)
		e.SetFaults(faults.MustParse("error=old,p=0.5;delay=1ms,jitter=1ms"))
		for range 37 {
			e.Decide("Service.Method")
			e.DecideAccept()
		}
		e.Reseed(43, size)
		if e.Calls() != 0 {
			t.Fatalf("fleet of %d: reseeded engine has %d calls, want none", size, e.Calls())
		}
		e.SetFaults(plan)
		fresh := inject.NewEngine(43, 3, size)
		fresh.SetFaults(plan)
		for i := range 300 {
			if got, want := e.Decide("Service.Method"), fresh.Decide("Service.Method"); !reflect.DeepEqual(got, want) {
				t.Fatalf("fleet of %d, call %d: reseeded engine decided %+v, a new one %+v", size, i+1, got, want)
			}
		}
	}
}
