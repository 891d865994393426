package suites_test

import (
	"context"
	"net/rpc"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/rpcfleet/rpcfleet/caller"
	"github.com/rpcfleet/rpcfleet/examples/kv/kv"
	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
)

// The README's "Using it from your own Ginkgo suite" example, verbatim, so
// that it keeps compiling and passing.
var _ = Describe("my fan-out", func() {
	It("reports a hanging server as a timeout, for that server only", func(ctx SpecContext) {
		f, err := fleet.Start(ctx, fleet.WithServers(10), fleet.WithSeed(uint64(GinkgoRandomSeed())))
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(f.Stop) // returns when every goroutine and connection is gone
		Expect(f.SetServerFaults(ctx, 3, faults.MustParse("hang"))).To(Succeed())

		c := caller.New(caller.WithTimeout(200 * time.Millisecond))
		DeferCleanup(c.Close)
		results, err := caller.FanOut[fleet.Args, fleet.Reply](ctx, c, f.Addrs(), "Service.Method", fleet.Args{Name: "Ann"})

		Expect(err).To(MatchError(context.DeadlineExceeded))
		Expect(results[3].Err).To(BeAssignableToTypeOf(&caller.TimeoutError{}))
		Expect(f.ServerCalls(ctx, 3)).To(ConsistOf(HaveField("Outcome", fleet.Hung)))
	}, SpecTimeout(5*time.Second))
})

// The README's "Your own service" example in process, verbatim.
var _ = Describe("your own service", func() {
	It("serves a receiver of yours on every server, with faults on its methods", func(ctx SpecContext) {
		f, err := fleet.Start(ctx, fleet.WithServers(3), fleet.WithService("KV", kv.New)) // kv.New(i) makes server i's shard
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(f.Stop)
		Expect(f.SetFaults(ctx, faults.MustParse("error=kv down,method=KV.Get,servers=1"))).To(Succeed())

		c, err := rpc.Dial("tcp", f.Addrs()[1])
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(c.Close)
		var r kv.GetReply
		Expect(c.Call("KV.Get", kv.GetArgs{Key: "k"}, &r)).To(MatchError("kv down"))
		Expect(f.ServerCalls(ctx, 1)).To(ConsistOf(HaveField("Method", "KV.Get")))
	}, SpecTimeout(5*time.Second))
})
