package specs

import (
	. "github.com/onsi/ginkgo/v2"

	"github.com/rpcfleet/rpcfleet/examples/kv/kvtest"
	"github.com/rpcfleet/rpcfleet/suites"
)

// The conformance suite against the team's client: the same specs as
// examples/kv/fanout's TestConformance, here in parallel processes.
var _ = Describe("the team's KV fan-out", Label("kv"), func() {
	suites.ConformanceOf(kvtest.Get, kvtest.NewClient, suites.TimesOut(), suites.HonoursCancel(), suites.KeepsInputOrder(), suites.AggregatesErrors())
})
