// Package suites is rpcfleet's reusable conformance suite for fan-out
// callers, and the home of rpcfleet's own Ginkgo v2 / Gomega specs.
//
// Conformance registers the fan-out specs inside any Ginkgo suite, against
// any implementation of FanOuter: completion (one outcome per address,
// return only after every reply; 0, 1 and 1,000 addresses), ordering
// (input order, completion order, parallelism), error handling (refused,
// error reply, drop, corrupt, crash, kill and restart, hang, cancellation,
// partial failure), hygiene (no goroutine or connection left behind,
// race-free) and repeatability. Options say which behaviours the
// implementation claims (TimesOut, HonoursCancel, KeepsInputOrder,
// AggregatesErrors), which shape its fan-out has (wait-for-all by
// default; Quorum, FirstSuccess, FailFast or DeadlineBounded, and beside
// any of them Bounded, Hedged, Retries, NotConcurrent: the suite then
// checks that shape's promises, and that the calls it lets go are
// released), how another RPC system reports a timeout (TimeoutIs), and
// which fleet the specs run on (WithFleetOptions, WithFleet). SeedStyle
// adapts a caller written in the seed article's style, Reference the
// reference caller of package caller:
//
//	var _ = Describe("my fan-out", func() {
//		suites.Conformance(func(timeout time.Duration) suites.FanOuter {
//			return suites.SeedStyle(myFanOut(timeout))
//		}, suites.TimesOut(), suites.HonoursCancel())
//	})
//
//	var _ = Describe("my majority read", func() {
//		suites.Conformance(newMajorityRead, suites.Quorum(func(n int) int { return n/2 + 1 }),
//			suites.TimesOut(), suites.HonoursCancel(), suites.AggregatesErrors())
//	})
//
// ConformanceOf runs the same specs on a fan-out of any call, typed by its
// args A and reply R: a Call names the method, the fleet option that
// serves it, the args of a fan-out and the Check of server i's reply
// (Want compares with an expected reply). Conformance is
// ConformanceOf(ServiceMethod(), …); SeedStyleOf, FanOutFuncOf, ResultOf
// and Closing take any types. examples/kv/kvtest wires a KV client of
// examples/kv this way.
//
// Run and RunOf run the same specs, not a copy, in a plain go test, as
// subtests of a *testing.T, with no Ginkgo in the test's own code:
//
//	func TestConformance(t *testing.T) {
//		suites.RunOf(t, kvtest.Get, kvtest.NewClient, kvtest.Claims...)
//	}
//
// Package suites/matchers holds the Gomega matchers the specs use. This
// package's own specs run the conformance suite against the reference
// caller and the seed article's caller, plus
// specs of the fleet and of the reference caller's error types and pool:
//
//	go tool ginkgo -p --race --randomize-all ./suites
package suites
