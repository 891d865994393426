package suites_test

import (
	"net/rpc"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
)

// What the fleet itself must do for the conformance specs to mean anything.
var _ = Describe("Fleet", func() {
	It("does not serialise concurrent calls on one connection behind a delay", func(ctx SpecContext) {
		const n, d = 10, 200 * time.Millisecond
		f := startFleet(ctx, 1)
		Expect(f.SetFaults(ctx, faults.MustParse("delay=200ms"))).To(Succeed())
		client, err := rpc.Dial("tcp", f.Addrs()[0])
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(client.Close)

		start := time.Now()
		calls := make([]*rpc.Call, n)
		for i := range calls {
			calls[i] = client.Go("Service.Method", fleet.Args{Name: "Bob"}, new(fleet.Reply), make(chan *rpc.Call, 1))
		}
		for _, call := range calls {
			Eventually(call.Done).WithContext(ctx).Should(Receive())
			Expect(call.Error).NotTo(HaveOccurred())
		}
		elapsed := time.Since(start)
		Expect(elapsed).To(BeNumerically(">=", d))
		Expect(elapsed).To(BeNumerically("<", 3*d), "serialised calls would take %v", n*d)
	}, SpecTimeout(10*time.Second))
})
