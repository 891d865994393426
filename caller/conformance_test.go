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
