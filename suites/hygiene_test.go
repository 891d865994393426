package suites_test

import (
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gleak"

	"github.com/rpcfleet/rpcfleet/caller"
	"github.com/rpcfleet/rpcfleet/faults"
)

var _ = Describe("Hygiene", func() {
	It("leaves no goroutine behind after fan-outs to a hanging server", func(ctx SpecContext) {
		baseline := gleak.Goroutines()
		f := startFleet(ctx, 5)
		setFaults(f, 0, "hang")
		setFaults(f, 1, "delay=2s")
		c := caller.New(caller.WithTimeout(100 * time.Millisecond))
		for range 3 {
			_, err := fanOut(ctx, c, f.Addrs())
			Expect(err).To(HaveOccurred())
		}
		Expect(c.Close()).To(Succeed())
		Expect(f.Stop(ctx)).To(Succeed())
		Eventually(gleak.Goroutines).WithTimeout(5 * time.Second).ShouldNot(gleak.HaveLeaked(baseline))
	}, SpecTimeout(20*time.Second))

	It("recycles a connection that holds too many abandoned calls", func(ctx SpecContext) {
		f := startFleet(ctx, 1)
		Expect(f.SetFaults(ctx, faults.MustParse("hang"))).To(Succeed())
		c := newCaller(caller.WithTimeout(20*time.Millisecond), caller.WithMaxAbandoned(4))
		for range 12 {
			_, err := fanOut(ctx, c, f.Addrs())
			Expect(err).To(HaveOccurred())
		}
		// Twelve hung calls, at most four per connection: at least three
		// connections were opened and all but the last closed.
		Eventually(f.Server(0).OpenConns).Should(BeNumerically("<=", 1))
		Expect(f.Journal().Len()).To(Equal(12))
	}, SpecTimeout(10*time.Second))

	It("is race-free when many fan-outs share one caller", func(ctx SpecContext) {
		f := startFleet(ctx, 10)
		Expect(f.SetFaults(ctx, faults.MustParse("delay=5ms,jitter=5ms;error=flaky,p=0.2"))).To(Succeed())
		c := newCaller()
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				defer GinkgoRecover()
				results, _ := fanOut(ctx, c, f.Addrs())
				Expect(results).To(HaveLen(10))
			})
		}
		wg.Wait()
		Expect(f.Journal().Len()).To(Equal(200))
	}, SpecTimeout(20*time.Second))
})
