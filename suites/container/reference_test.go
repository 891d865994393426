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
// thousand containers is no unit test on a small machine), and 3s of slack
// (timeouts three times the in-process ones): starting 50 containers, or
// three fleets of 10 one after another, takes most of a minute on a busy
// two-core machine.
var _ = Describe("the reference caller on containers", Label("container", "reference"), func() {
	suites.Conformance(func(timeout time.Duration) suites.FanOuter {
		return suites.Reference(caller.New(caller.WithTimeout(timeout), caller.WithDialTimeout(timeout)))
	}, suites.TimesOut(), suites.HonoursCancel(), suites.KeepsInputOrder(), suites.AggregatesErrors(),
		suites.WithFleetOptions(fleet.WithBackend(containers())), suites.WithLargeFanOut(0), suites.WithoutConnCount(), suites.WithSlack(3*time.Second))
})
