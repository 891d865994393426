package specs

import (
	"context"
	"fmt"
	"net/rpc"
	"os"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/rpcfleet/rpcfleet/examples/kv/fanout"
	"github.com/rpcfleet/rpcfleet/examples/kv/kv"
	"github.com/rpcfleet/rpcfleet/examples/kv/kvtest"
	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/fleet/container"
	"github.com/rpcfleet/rpcfleet/suites/matchers"
)

// What the team asks of its own client beyond the conformance suite,
// written with a fleet of KV servers and rpcfleet's matchers.
var _ = Describe("fanout.Client", Label("kv"), func() {
	It("fails only the shard that is down, and names it in its error", func(ctx SpecContext) {
		f := startFleet(ctx, fleet.WithServers(5), kvtest.Get.Service,
			fleet.WithFaults(faults.MustParse("error=shard down,method=KV.Get,servers=3")))
		run, _ := get(ctx, f, time.Second, "k")
		Expect(run).To(matchers.FailExactlyOn(f.Addrs()[3]))
		Expect(run.Err).To(MatchError(ContainSubstring(f.Addrs()[3] + ": shard down")))
		Expect(run).To(matchers.HaveOneCallPerServer(5))
	}, SpecTimeout(20*time.Second))

	It("pays one timeout for a hanging shard, not the fan-out's whole time, and keeps the other values", func(ctx SpecContext) {
		const timeout = 500 * time.Millisecond
		f := startFleet(ctx, fleet.WithServers(8), kvtest.Get.Service, fleet.WithFaults(faults.MustParse("hang,servers=2")))
		run, results := get(ctx, f, timeout, "k")
		Expect(run).To(matchers.FailExactlyOn(f.Addrs()[2]))
		Expect(results[2].Err).To(MatchError(context.DeadlineExceeded))
		Expect(run).To(matchers.CompleteWithin(timeout + 3*time.Second))
		for i, r := range results {
			if i != 2 {
				Expect(r.Value).To(Equal(kvtest.Value(i, "k")), "shard %d's value", i)
			}
		}
	}, SpecTimeout(20*time.Second))

	It("asks every shard at once: 20 shards delayed 300ms answer in about 300ms", func(ctx SpecContext) {
		f := startFleet(ctx, fleet.WithServers(20), kvtest.Get.Service, fleet.WithFaults(faults.MustParse("delay=300ms")))
		run, _ := get(ctx, f, 5*time.Second, "k")
		Expect(run).To(matchers.AllSucceed())
		Expect(run).To(matchers.ReceiveAllBeforeFirstReply(), "the client calls its shards one after another")
	}, SpecTimeout(20*time.Second))
})

// The same client against containers running the KV server's image
// (examples/kv/server, built here by container.BuildPackage): faults,
// journal and the control plane around the team's own service.
var _ = Describe("fanout.Client on containers", Label("kv", "container"), func() {
	It("reads each container's own shard and fails only the one with a fault", func(ctx SpecContext) {
		if err := container.Available(ctx); err != nil {
			if os.Getenv("CI") == "true" {
				Fail(fmt.Sprintf("CI=true but no Docker engine answers: %v", err))
			}
			Skip(fmt.Sprintf("no Docker engine answers (%v); with CI=true this fails", err))
		}
		const image = "rpcfleet-kv-example:dev"
		Expect(container.BuildPackage(ctx, "github.com/rpcfleet/rpcfleet/examples/kv/server", image)).To(Succeed())
		f := startFleet(ctx, fleet.WithServers(3), fleet.WithBackend(container.New(image)),
			fleet.WithFaults(faults.MustParse("error=shard down,method=KV.Get,servers=1")))
		for i, addr := range f.Addrs() { // the image's shards start empty
			Expect(put(addr, "k", fmt.Sprintf("v%d", i))).To(Succeed())
		}
		run, results := get(ctx, f, 5*time.Second, "k")
		Expect(run).To(matchers.FailExactlyOn(f.Addrs()[1]))
		Expect(results[0].Value).To(Equal("v0"))
		Expect(results[2].Value).To(Equal("v2"))
		Expect(f.ServerCalls(ctx, 1)).To(ContainElement(And(HaveField("Method", "KV.Get"), HaveField("Outcome", fleet.Failed))))
	}, SpecTimeout(3*time.Minute))
})

// startFleet starts a fleet seeded from Ginkgo's seed, stopped when the
// spec ends.
func startFleet(ctx context.Context, opts ...fleet.Option) *fleet.Fleet {
	GinkgoHelper()
	f, err := fleet.Start(ctx, append([]fleet.Option{fleet.WithSeed(uint64(GinkgoRandomSeed()))}, opts...)...)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func(ctx SpecContext) { Expect(f.Stop(ctx)).To(Succeed()) }, NodeTimeout(time.Minute))
	return f
}

// get fans KV.Get of key out to every server of f with a fresh client,
// closed when the spec ends, and returns the client's results and what
// the matchers take: the results by address, the error, the times, and
// the journal of f.
func get(ctx context.Context, f *fleet.Fleet, timeout time.Duration, key string) (matchers.Run, []fanout.Result) {
	GinkgoHelper()
	c := fanout.New(timeout)
	DeferCleanup(c.Close)
	addrs := f.Addrs()
	start := time.Now()
	results, err := c.Get(ctx, addrs, key)
	run := matchers.Run{Addrs: addrs, Servers: addrs, Err: err, Returned: time.Now()}
	run.Elapsed = run.Returned.Sub(start)
	for i, r := range results {
		run.Results = append(run.Results, matchers.Result{Addr: addrs[i], Err: r.Err})
	}
	calls, err := f.Calls(ctx)
	Expect(err).NotTo(HaveOccurred())
	run.Calls = calls
	return run, results
}

// put stores key=value on the server at addr.
func put(addr, key, value string) error {
	c, err := rpc.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Call("KV.Put", kv.PutArgs{Key: key, Value: value}, new(kv.PutReply))
}
