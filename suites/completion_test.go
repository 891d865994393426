package suites_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
)

var _ = Describe("Completion", func() {
	It("returns an empty result and no error for no addresses", func(ctx SpecContext) {
		c := newCaller()
		results, err := fanOut(ctx, c, nil)
		Expect(err).NotTo(HaveOccurred())
		Expect(results).To(BeEmpty())
	}, SpecTimeout(10*time.Second))

	DescribeTable("returns exactly one result per address, each the reply of that server",
		func(ctx SpecContext, n int) {
			f := startFleet(ctx, n)
			c := newCaller()
			addrs := f.Addrs()

			results, err := fanOut(ctx, c, addrs)
			Expect(err).NotTo(HaveOccurred())
			Expect(results).To(HaveLen(n))
			for i, r := range results {
				Expect(r.Addr).To(Equal(addrs[i]))
				Expect(r.Err).NotTo(HaveOccurred())
				Expect(r.Reply.Message).To(Equal(fleet.Greeting("Alice", i, addrs[i])))
			}

			calls := f.Journal().Calls()
			Expect(calls).To(HaveLen(n), "the journal holds one call per server")
			perServer := make(map[int]int)
			for _, call := range calls {
				perServer[call.Server]++
			}
			Expect(perServer).To(HaveLen(n))
			for i := range n {
				Expect(perServer[i]).To(Equal(1), "server %d received one call", i)
			}
		},
		Entry("1 address", 1, SpecTimeout(10*time.Second)),
		Entry("500 addresses", 500, SpecTimeout(30*time.Second)),
	)

	It("returns only after every server has replied", func(ctx SpecContext) {
		f := startFleet(ctx, 20)
		Expect(f.SetFaults(ctx, faults.MustParse("delay=40ms,jitter=40ms"))).To(Succeed())
		c := newCaller()

		results, err := fanOut(ctx, c, f.Addrs())
		returned := time.Now()
		Expect(err).NotTo(HaveOccurred())
		Expect(results).To(HaveLen(20))

		calls := f.Journal().Calls()
		Expect(calls).To(HaveLen(20))
		for _, call := range calls {
			Expect(call.Outcome).To(Equal(faults.OK), "server %d's call", call.Server)
			Expect(call.Replied).To(BeTemporally("<=", returned), "server %d replied after the fan-out returned", call.Server)
		}
	}, SpecTimeout(10*time.Second))
})
