package suites_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/rpcfleet/rpcfleet/caller"
	"github.com/rpcfleet/rpcfleet/suites"
)

// referenceTimeout is the reference caller's per-call timeout in the
// conformance specs: long enough for a cold fan-out to 1,000 servers with
// -race on a busy two-core machine (500ms is not), short enough that
// hanging servers cost little.
const referenceTimeout = 2 * time.Second

// The reference caller claims every behaviour the suite knows.
var _ = Describe("the reference caller", Label("reference"), func() {
	suites.Conformance(func() suites.FanOuter {
		return suites.Reference(caller.New(caller.WithTimeout(referenceTimeout)))
	}, suites.TimesOut(referenceTimeout), suites.HonoursCancel(), suites.KeepsInputOrder(), suites.AggregatesErrors())
})
