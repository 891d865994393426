package matchers

import (
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onsi/gomega/gleak"
)

// park starts n goroutines that wait for release; wg ends with them.
func park(n int, release <-chan struct{}, wg *sync.WaitGroup) {
	for range n {
		wg.Go(func() { <-release })
	}
}

// settle waits until no goroutine started since baseline is runnable, so
// that every one of them is parked where it leaks.
func settle(t *testing.T, baseline []gleak.Goroutine) []gleak.Goroutine {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		gs := gleak.Goroutines()
		if !strings.Contains(leakReport(newSince(baseline, gs)), "runnable") {
			return gs
		}
		if time.Now().After(deadline) {
			t.Fatal("goroutines still runnable after 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// newSince returns the goroutines of gs that are not in baseline.
func newSince(baseline, gs []gleak.Goroutine) []gleak.Goroutine {
	old := map[uint64]bool{}
	for _, g := range baseline {
		old[g.ID] = true
	}
	var fresh []gleak.Goroutine
	for _, g := range gs {
		if !old[g.ID] {
			fresh = append(fresh, g)
		}
	}
	return fresh
}

func TestHaveLeakedSummarises(t *testing.T) {
	baseline := gleak.Goroutines()
	release := make(chan struct{})
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(release)
	park(300, release, &wg)
	wg.Go(func() { <-release }) // another kind: run by this test, not by park

	gs := settle(t, baseline)
	m := HaveLeaked(baseline)
	leaked, err := m.Match(gs)
	if err != nil || !leaked {
		t.Fatalf("Match = %v, %v; want 301 leaked goroutines found", leaked, err)
	}
	msg := m.NegatedFailureMessage(gs)
	for _, want := range []string{
		`301 goroutines leaked, of 2 kinds`,
		`\n\s+300\s+\S+matchers\.\S*park\.func\d+\s+\S+matchers\.\S*park\.func\d+\s+chan receive\n`,
		`\n\s+1\s+\S+matchers\.TestHaveLeakedSummarises\.func\d+\s`,
		`one of the 300 running \S+park\.func\d+: goroutine \d+ \[chan receive\]\n\s+\S+park\.func\d+\(\)\n\s+\S+leaks_test\.go:\d+`,
	} {
		if !regexp.MustCompile(want).MatchString(msg) {
			t.Errorf("message does not match %q:\n%s", want, msg)
		}
	}
	if n := strings.Count(msg, "\n"); n > 40 {
		t.Errorf("message has %d lines, want a summary:\n%s", n, msg)
	}

	if leaked, _ := HaveLeaked(gs).Match(gleak.Goroutines()); leaked {
		t.Error("nothing new since gs, yet Match reports a leak")
	}
}

func TestHaveLeakedPassesWithoutLeak(t *testing.T) {
	baseline := gleak.Goroutines()
	done := make(chan struct{})
	go func() { close(done) }()
	<-done
	deadline := time.Now().Add(10 * time.Second)
	for {
		leaked, err := HaveLeaked(baseline).Match(gleak.Goroutines())
		if err != nil {
			t.Fatal(err)
		}
		if !leaked {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("a goroutine that ended is still reported as leaked after 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestLeakHintNamesTheLikelyCause(t *testing.T) {
	tests := []struct {
		state, says string
	}{
		{"chan send", "make(chan T, len(addrs))"},
		{"chan send, 3 minutes", "make(chan T, len(addrs))"},
		{"select (durable)", "cancel the calls it lets go"},
		{"select", "cancel the calls it lets go"},
		{"chan receive", "cancel the calls it lets go"},
		{"semacquire", "missed Unlock, Done or release"},
		{"sleep", "select on ctx.Done() beside the timer"},
		{"running", ""},
	}
	for _, tt := range tests {
		got := leakHint([]*leakKind{{state: tt.state, n: 3}})
		if tt.says == "" && got != "" || !strings.Contains(got, tt.says) {
			t.Errorf("leakHint of goroutines in state %q = %q, want it to say %q", tt.state, got, tt.says)
		}
	}
}
