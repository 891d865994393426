package suites_test

import (
	"fmt"
	"math/rand/v2"
	"net/rpc"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
)

var _ = Describe("Ordering", func() {
	It("returns results in input order, whatever order the replies come in", func(ctx SpecContext) {
		const n = 8
		f := startFleet(ctx, n)
		for i := range n {
			// Server 0 is slowest, so replies arrive in reverse order.
			setFaults(f, i, fmt.Sprintf("delay=%dms", (n-i)*15))
		}
		c := newCaller()
		addrs := f.Addrs()
		rng := rand.New(rand.NewPCG(uint64(GinkgoRandomSeed()), 0))
		rng.Shuffle(len(addrs), func(i, j int) { addrs[i], addrs[j] = addrs[j], addrs[i] })

		results, err := fanOut(ctx, c, addrs)
		Expect(err).NotTo(HaveOccurred())
		Expect(results).To(HaveLen(n))
		for i, r := range results {
			server := slices.Index(f.Addrs(), addrs[i])
			Expect(r.Addr).To(Equal(addrs[i]))
			Expect(r.Reply.Message).To(Equal(fleet.Greeting("Alice", server, addrs[i])))
		}
	}, SpecTimeout(10*time.Second))

	It("sees replies complete in the order of the injected delays", func(ctx SpecContext) {
		const n, step = 5, 60 * time.Millisecond
		f := startFleet(ctx, n)
		for i := range n {
			setFaults(f, i, fmt.Sprintf("delay=%v", time.Duration(n-i)*step))
		}
		c := newCaller()

		results, err := fanOut(ctx, c, f.Addrs())
		Expect(err).NotTo(HaveOccurred())
		for i, r := range results {
			Expect(r.Latency).To(BeNumerically(">=", time.Duration(n-i)*step), "result %d", i)
		}
		calls := f.Journal().Calls()
		Expect(calls).To(HaveLen(n))
		slices.SortFunc(calls, func(a, b fleet.Call) int { return int(a.RepliedAt) - int(b.RepliedAt) })
		var order []int
		for _, call := range calls {
			order = append(order, call.Server)
		}
		Expect(order).To(Equal([]int{4, 3, 2, 1, 0}), "servers in the order they replied")
	}, SpecTimeout(10*time.Second))

	It("calls servers in parallel: n servers delayed d finish in about d, not n·d", func(ctx SpecContext) {
		const n, d = 50, 200 * time.Millisecond
		f := startFleet(ctx, n)
		Expect(f.SetFaults(ctx, faults.MustParse("delay=200ms"))).To(Succeed())
		c := newCaller()

		start := time.Now()
		_, err := fanOut(ctx, c, f.Addrs())
		elapsed := time.Since(start)
		Expect(err).NotTo(HaveOccurred())
		Expect(elapsed).To(BeNumerically(">=", d))
		Expect(elapsed).To(BeNumerically("<", 5*d), "serial calls would take %v", n*d)
	}, SpecTimeout(20*time.Second))

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
