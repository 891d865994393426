package suites_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/rpcfleet/rpcfleet/caller"
	"github.com/rpcfleet/rpcfleet/suites"
)

// The reference caller claims every behaviour the suite knows. Its dials
// get the suite's timeout too: the default second is not always enough
// for a thousand of them at once on a busy two-core machine.
var _ = Describe("the reference caller", Label("reference"), func() {
	suites.Conformance(func(timeout time.Duration) suites.FanOuter {
		return suites.Reference(caller.New(caller.WithTimeout(timeout), caller.WithDialTimeout(timeout)))
	}, suites.TimesOut(), suites.HonoursCancel(), suites.KeepsInputOrder(), suites.AggregatesErrors())
})
