package fanout_test

import (
	"testing"
	"time"

	"github.com/rpcfleet/rpcfleet/examples/kv/fanout"
	"github.com/rpcfleet/rpcfleet/examples/kv/kv"
	"github.com/rpcfleet/rpcfleet/examples/kv/kvtest"
	"github.com/rpcfleet/rpcfleet/suites"
)

// The conformance suite as plain subtests: go test -run 'TestConformance/ordering' picks a group.
func TestConformance(t *testing.T) {
	suites.RunOf(t, kvtest.Get, kvtest.NewClient, suites.TimesOut(), suites.HonoursCancel(), suites.KeepsInputOrder(), suites.AggregatesErrors())
}

// The same specs in virtual time (testing/synctest), on fleets in memory
// that the client reaches through the suite's Dialer: hangs and timeouts
// take no wall time, and no timing bound can flake.
func TestConformanceInVirtualTime(t *testing.T) {
	var d suites.Dialer
	suites.RunOf(t, kvtest.Get, func(timeout time.Duration) suites.FanOuterOf[kv.GetArgs, kv.GetReply] {
		return kvtest.Adapt(fanout.New(timeout, fanout.WithDialer(d.Dial)))
	}, suites.TimesOut(), suites.HonoursCancel(), suites.KeepsInputOrder(), suites.AggregatesErrors(), suites.InVirtualTime(&d))
}
