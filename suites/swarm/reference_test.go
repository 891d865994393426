package swarm_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/rpcfleet/rpcfleet/caller"
	"github.com/rpcfleet/rpcfleet/suites"
)

// The conformance suite, unchanged, on a fleet attached to a Swarm stack
// (docker/stack.yaml): every spec's fleet is the stack's first servers,
// reseeded, emptied and given the spec's faults through their control
// ports; a killed server's task exits and the restart policy starts a new
// one on new ports. Serial: one stack, steered by one spec at a time. A
// 20-address fan-out for the large spec; 3s of slack, as on containers.
var _ = Describe("the reference caller on a swarm-hosted fleet", Serial, Label("swarm", "reference"), func() {
	suites.Conformance(func(timeout time.Duration) suites.FanOuter {
		return suites.Reference(caller.New(caller.WithTimeout(timeout), caller.WithDialTimeout(timeout)))
	}, suites.TimesOut(), suites.HonoursCancel(), suites.KeepsInputOrder(), suites.AggregatesErrors(),
		suites.WithFleet(start), suites.WithLargeFanOut(20), suites.WithoutConnCount(), suites.WithSlack(3*time.Second))
})
