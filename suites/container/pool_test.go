package container_test

import (
	"context"
	"fmt"
	"net/rpc"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/rpcfleet/rpcfleet/examples/kv/kv"
	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/fleet/container"
)

// The pool the other specs share is what makes the suite fast; this spec
// holds it to its promise: a spec cannot tell a fleet on kept containers
// from one on new containers, whatever the fleet before it did. It runs on
// a pool of its own, so that it knows which containers are kept, and on
// the KV image, whose receivers hold state.
var _ = Describe("Pool", Label("container"), func() {
	It("starts a fleet on kept containers that passes for one on new containers, whatever the fleet before did", func(ctx SpecContext) {
		const n = 3
		kvPool := container.NewPool(container.New(kvImage))
		DeferCleanup(kvPool.Close, NodeTimeout(time.Minute))

		// A fleet that leaves every trace it can: faults, calls, a key in
		// every shard, an open connection, a killed, a paused and a
		// crashed server, one cut off.
		used := on(kvPool)(ctx, n, fleet.WithFaults(faults.MustParse("error=old,p=0.5,method=KV.Get")))
		for i := range n {
			call(used.Addrs()[i], "KV.Put", kv.PutArgs{Key: "k", Value: "old"}, &kv.PutReply{})
		}
		open, err := rpc.Dial("tcp", used.Addrs()[2])
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(open.Close)
		Expect(open.Call("KV.Get", kv.GetArgs{Key: "k"}, &kv.GetReply{})).To(Or(Succeed(), MatchError("old")))
		Expect(used.Kill(ctx, 0)).To(Succeed())
		Expect(used.Pause(ctx, 1)).To(Succeed())
		Expect(used.SetServerFaults(ctx, 2, faults.MustParse("crash"))).To(Succeed())
		call(used.Addrs()[2], "KV.Get", kv.GetArgs{Key: "k"}, &kv.GetReply{})
		Expect(used.Disconnect(ctx, 2)).To(Succeed())
		Expect(used.Stop(ctx)).To(Succeed())
		Expect(kvPool.Stats()).To(Equal(container.PoolStats{Created: n, Idle: n}))
		Expect(open.Call("KV.Get", kv.GetArgs{Key: "k"}, &kv.GetReply{})).NotTo(Succeed(), "a connection of the stopped fleet")
		Expect(used.Restart(ctx, 0)).To(MatchError(ContainSubstring("its fleet has stopped")), "the stopped fleet steers nothing")

		// The same seed, faults and calls, on kept and on new containers.
		opts := []fleet.Option{fleet.WithSeed(7), fleet.WithFaults(faults.MustParse("error=flaky,p=0.4;delay=1ms,jitter=1ms,p=0.5;error=picked,servers=50%,first=2"))}
		reused := on(kvPool)(ctx, n, opts...)
		Expect(kvPool.Stats()).To(Equal(container.PoolStats{Created: n, Reused: n}))
		fresh := on(container.New(kvImage))(ctx, n, opts...)
		Expect(seen(ctx, reused)).To(Equal(seen(ctx, fresh)))
	}, SpecTimeout(2*time.Minute))
})

// seen makes the same calls to every server of f, one after another, and
// returns what the calls and the journal saw, without addresses and times.
func seen(ctx context.Context, f *fleet.Fleet) string {
	GinkgoHelper()
	var b strings.Builder
	for round := range 4 {
		for i, addr := range f.Addrs() {
			var g kv.GetReply
			fmt.Fprintf(&b, "round %d, server %d: get %v %q", round, i, call(addr, "KV.Get", kv.GetArgs{Key: "k"}, &g), g.Value)
			var p kv.PutReply
			fmt.Fprintf(&b, ", put %v %d\n", call(addr, "KV.Put", kv.PutArgs{Key: "k", Value: fmt.Sprint(round)}, &p), p.Shard)
		}
	}
	calls, err := f.Calls(ctx)
	Expect(err).NotTo(HaveOccurred())
	for _, c := range calls {
		fmt.Fprintf(&b, "server %d call %d %s: rule %d %s, delay rule %d %v: %v %s\n",
			c.Server, c.N, c.Method, c.Rule, c.Fault, c.DelayRule, c.Delay, c.Outcome, c.Err)
	}
	return b.String()
}

// call makes one call on a connection of its own and returns its error.
func call(addr, method string, args, reply any) error {
	c, err := rpc.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Call(method, args, reply)
}
