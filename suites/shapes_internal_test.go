package suites

import (
	"strings"
	"testing"
	"time"
)

// Claims that make no sense are named, each: the suite registers one
// failing spec that lists them instead of its tree (specs.go, tree).
func TestBadClaimsAreNamed(t *testing.T) {
	tests := []struct {
		claims []Option
		want   string
	}{
		{[]Option{Quorum(nil)}, "suites.Quorum(nil)"},
		{[]Option{Bounded(0)}, "suites.Bounded(0)"},
		{[]Option{Hedged(0, 1)}, "suites.Hedged(0s, 1)"},
		{[]Option{Hedged(time.Second, 0)}, "suites.Hedged(1s, 0)"},
		{[]Option{Retries(1)}, "suites.Retries(1)"},
		{[]Option{TimeoutIs(nil)}, "suites.TimeoutIs(nil)"},
		{[]Option{WithFleet(nil)}, "suites.WithFleet(nil)"},
		{[]Option{FailFast(), Quorum(func(n int) int { return n })}, "already claims the fail fast shape"},
	}
	for _, tt := range tests {
		h := newHarness(ServiceMethod(), func(time.Duration) FanOuter { return nil }, tt.claims)
		if got := strings.Join(h.cfg.bad, "; "); !strings.Contains(got, tt.want) {
			t.Errorf("claims naming %q: got bad claims %q", tt.want, got)
		}
	}
	if h := newHarness(ServiceMethod(), func(time.Duration) FanOuter { return nil }, []Option{Quorum(func(n int) int { return n/2 + 1 }), Bounded(4), Hedged(time.Millisecond, 1), Retries(2)}); len(h.cfg.bad) > 0 {
		t.Errorf("claims that compose were refused: %v", h.cfg.bad)
	}
}
