package attach_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/rpcfleet/rpcfleet/caller"
	"github.com/rpcfleet/rpcfleet/suites"
)

// The conformance suite, unchanged, on a fleet attached to rpcfleet serve
// processes: every spec's fleet is the pool's first servers, reseeded,
// emptied and given the spec's faults through their control ports; a
// killed server's process exits and its supervisor starts it again on new
// ports. A 20-address fan-out for the large spec; 2s of slack.
var _ = Describe("the reference caller on an attached fleet", Label("attach", "reference"), func() {
	suites.Conformance(func(timeout time.Duration) suites.FanOuter {
		return suites.Reference(caller.New(caller.WithTimeout(timeout), caller.WithDialTimeout(timeout)))
	}, suites.TimesOut(), suites.HonoursCancel(), suites.KeepsInputOrder(), suites.AggregatesErrors(),
		suites.WithFleet(start), suites.WithLargeFanOut(20), suites.WithoutConnCount(), suites.WithSlack(2*time.Second))
})
