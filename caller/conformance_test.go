package caller_test

import (
	"testing"
	"time"

	"github.com/rpcfleet/rpcfleet/caller"
	"github.com/rpcfleet/rpcfleet/suites"
)

// The reference caller through the whole conformance suite in virtual
// time: every spec in a testing/synctest bubble, on fleets in memory, the
// caller dialling through the suite's Dialer. Hangs, delays and timeouts
// take no wall time, and no timing bound can flake on a busy machine.
func TestConformanceInVirtualTime(t *testing.T) {
	var d suites.Dialer
	suites.Run(t, func(timeout time.Duration) suites.FanOuter {
		return suites.Reference(caller.New(caller.WithTimeout(timeout), caller.WithDialTimeout(timeout), caller.WithDialer(d.Dial)))
	}, suites.TimesOut(), suites.HonoursCancel(), suites.KeepsInputOrder(), suites.AggregatesErrors(), suites.InVirtualTime(&d))
}

// The reference caller's strategies under their shape claims, in virtual
// time: the shape specs (quorum, fail fast, bounded, hedged, retries) on
// in-memory fleets inside synctest bubbles.
func TestShapesInVirtualTime(t *testing.T) {
	claims := []suites.Option{suites.TimesOut(), suites.HonoursCancel(), suites.KeepsInputOrder(), suites.AggregatesErrors()}
	for _, tt := range []struct {
		name     string
		strategy caller.Option
		shape    suites.Option
	}{
		{"quorum", caller.WithQuorum(3), suites.Quorum(func(n int) int { return min(n, 3) })},
		{"fail fast", caller.WithFailFast(), suites.FailFast()},
		{"bounded", caller.WithConcurrency(4), suites.Bounded(4)},
		{"hedged", caller.WithHedge(100*time.Millisecond, 1), suites.Hedged(100*time.Millisecond, 1)},
		{"retries", caller.WithRetry(3, time.Millisecond, 10*time.Millisecond), suites.Retries(3)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var d suites.Dialer
			suites.Run(t, func(timeout time.Duration) suites.FanOuter {
				return suites.Reference(caller.New(tt.strategy, caller.WithTimeout(timeout), caller.WithDialTimeout(timeout), caller.WithDialer(d.Dial)))
			}, append(claims, tt.shape, suites.InVirtualTime(&d))...)
		})
	}
}
