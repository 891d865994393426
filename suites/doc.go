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
// AggregatesErrors) and which fleet the specs run on (WithFleetOptions,
// WithFleet). SeedStyle adapts a caller written in the seed article's
// style, Reference the reference caller of package caller:
//
//	var _ = Describe("my fan-out", func() {
//		suites.Conformance(func(timeout time.Duration) suites.FanOuter {
//			return suites.SeedStyle(myFanOut(timeout))
//		}, suites.TimesOut(), suites.HonoursCancel())
//	})
//
// ConformanceOf runs the same specs on a fan-out of any call, typed by its
// args A and reply R: a Call names the method, the fleet option that
// serves it, the args of a fan-out and the Check of server i's reply
// (Want compares with an expected reply). Conformance is
// ConformanceOf(ServiceMethod(), …); SeedStyleOf, FanOutFuncOf, ResultOf
// and Closing take any types. A KV.Get fan-out on examples/kv's shards
// (kv_test.go):
//
//	var _ = Describe("my KV fan-out", Label("kv"), func() {
//		suites.ConformanceOf(suites.Call[kv.GetArgs, kv.GetReply]{
//			Method:  "KV.Get",
//			Service: fleet.WithService("KV", kv.Loading(shardValue)), // every key has a value per shard
//			Args:    func(who string) kv.GetArgs { return kv.GetArgs{Key: who} },
//			Check: suites.Want(func(who string, server int) kv.GetReply {
//				return kv.GetReply{Value: shardValue(server, who)}
//			}),
//		}, func(timeout time.Duration) suites.FanOuterOf[kv.GetArgs, kv.GetReply] {
//			return suites.FanOutFuncOf[kv.GetArgs, kv.GetReply](func(ctx context.Context, addrs []string, args kv.GetArgs) ([]suites.ResultOf[kv.GetReply], error) {
//				return getAll(ctx, timeout, addrs, args) // your code
//			})
//		}, suites.TimesOut(), suites.HonoursCancel(), suites.KeepsInputOrder(), suites.AggregatesErrors())
//	})
//
// Package suites/matchers holds the Gomega matchers the specs use. This
// package's own specs run the conformance suite against the reference
// caller, the seed article's caller and the KV.Get caller above, plus
// specs of the fleet and of the reference caller's error types and pool:
//
//	go tool ginkgo -p --race --randomize-all ./suites
package suites
