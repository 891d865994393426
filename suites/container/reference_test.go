package container_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/rpcfleet/rpcfleet/caller"
	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// The conformance suite, unchanged, on containers: the reference caller
// claims every behaviour the suite knows. No 1,000-server fan-out (a
// thousand containers is no unit test on a small machine), and a second
// of extra slack for container start and stop.
var _ = Describe("the reference caller on containers", Label("container", "reference"), func() {
	suites.Conformance(func(timeout time.Duration) suites.FanOuter {
		return suites.Reference(caller.New(caller.WithTimeout(timeout), caller.WithDialTimeout(timeout)))
	}, suites.TimesOut(), suites.HonoursCancel(), suites.KeepsInputOrder(), suites.AggregatesErrors(),
		suites.WithFleetOptions(fleet.WithBackend(containers())), suites.WithLargeFanOut(0), suites.WithoutConnCount(), suites.WithSlack(2*time.Second))
})
