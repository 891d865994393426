package container_test

import (
	"net/rpc"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/rpcfleet/rpcfleet/examples/kv/kv"
	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/fleet/container"
)

// A user's own service on containers: the image of their server main
// (fleet/serve, built by BuildPackage in SynchronizedBeforeSuite) runs
// under container.New as rpcfleet's does, with faults, the journal and
// the control plane around their methods.
var _ = Describe("Your own service on containers", Label("container"), func() {
	It("keeps a shard per server, fails KV.Get on the targeted server only, and journals KV.Get", func(ctx SpecContext) {
		const n = 3
		f := on(container.New(kvImage))(ctx, n)
		clients := make([]*rpc.Client, n)
		for i, addr := range f.Addrs() {
			c, err := rpc.Dial("tcp", addr)
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(c.Close)
			clients[i] = c
		}
		value := func(i int) string { return []string{"zero", "one", "two"}[i] }
		for i, c := range clients {
			var r kv.PutReply
			Expect(c.Call("KV.Put", kv.PutArgs{Key: "k", Value: value(i)}, &r)).To(Succeed())
			Expect(r.Shard).To(Equal(i), "server %d's index", i)
		}
		for i, c := range clients {
			var r kv.GetReply
			Expect(c.Call("KV.Get", kv.GetArgs{Key: "k"}, &r)).To(Succeed())
			Expect(r.Value).To(Equal(value(i)), "server %d's own shard", i)
		}

		Expect(f.SetFaults(ctx, faults.MustParse("error=kv down,method=KV.Get,servers=1"))).To(Succeed())
		for i, c := range clients {
			var r kv.GetReply
			err := c.Call("KV.Get", kv.GetArgs{Key: "k"}, &r)
			if i == 1 {
				Expect(err).To(Equal(rpc.ServerError("kv down")))
			} else {
				Expect(err).NotTo(HaveOccurred())
				Expect(r.Value).To(Equal(value(i)))
			}
			var p kv.PutReply
			Expect(c.Call("KV.Put", kv.PutArgs{Key: "k", Value: value(i)}, &p)).To(Succeed(), "KV.Put of server %d is not targeted", i)
		}

		Expect(f.ServerCalls(ctx, 1)).To(HaveExactElements(
			And(HaveField("Method", "KV.Put"), HaveField("Outcome", fleet.OK)),
			And(HaveField("Method", "KV.Get"), HaveField("Outcome", fleet.OK)),
			And(HaveField("Method", "KV.Get"), HaveField("Outcome", fleet.Failed), HaveField("Err", "kv down")),
			And(HaveField("Method", "KV.Put"), HaveField("Outcome", fleet.OK)),
		))
		calls, err := f.Calls(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(calls).To(HaveLen(4 * n))
		Expect(calls).To(HaveEach(HaveField("Method", BeElementOf("KV.Put", "KV.Get"))))
	}, SpecTimeout(2*time.Minute))

	It("refuses WithService, pointing to BuildPackage, and leaves nothing behind", func(ctx SpecContext) {
		before := owned(ctx)
		_, err := fleet.Start(ctx, fleet.WithBackend(containers()), fleet.WithService("KV", kv.New))
		Expect(err).To(MatchError(ContainSubstring(`WithService("KV")`)))
		Expect(err).To(MatchError(ContainSubstring("BuildPackage")))
		Expect(owned(ctx)).To(Equal(before))
	}, SpecTimeout(time.Minute))
})
