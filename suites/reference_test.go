package suites_test

import (
	"context"
	"errors"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/rpcfleet/rpcfleet/caller"
	"github.com/rpcfleet/rpcfleet/faults"
)

// What the conformance suite cannot ask of every caller: the reference
// caller's own error types and connection pool.
var _ = Describe("Reference caller specifics", Label("reference"), func() {
	It("reports a refused dial in a *caller.FanOutError naming that address", func(ctx SpecContext) {
		f := startFleet(ctx, 5)
		Expect(f.Kill(ctx, 2)).To(Succeed())
		c := newCaller()
		addrs := f.Addrs()

		_, err := fanOut(ctx, c, addrs)
		var fe *caller.FanOutError
		Expect(errors.As(err, &fe)).To(BeTrue())
		Expect(fe.Addrs()).To(Equal([]string{addrs[2]}))
		Expect(fe.Calls).To(Equal(5))
	}, SpecTimeout(10*time.Second))

	It("reports a timeout as a *caller.TimeoutError that is context.DeadlineExceeded", func(ctx SpecContext) {
		const timeout = 300 * time.Millisecond
		f := startFleet(ctx, 6)
		setFaults(f, 3, "hang")
		c := newCaller(caller.WithTimeout(timeout))

		results, err := fanOut(ctx, c, f.Addrs())
		var te *caller.TimeoutError
		Expect(errors.As(err, &te)).To(BeTrue())
		Expect(te.After).To(Equal(timeout))
		Expect(errors.As(results[3].Err, &te)).To(BeTrue())
		Expect(results[3].Err).To(MatchError(context.DeadlineExceeded))
	}, SpecTimeout(10*time.Second))

	It("names the failed addresses in input order, each a *caller.CallError with its index", func(ctx SpecContext) {
		f := startFleet(ctx, 10)
		for _, i := range []int{1, 4, 7} {
			setFaults(f, i, "error=partial")
		}
		Expect(f.Kill(ctx, 8)).To(Succeed())
		c := newCaller()
		addrs := f.Addrs()

		_, err := fanOut(ctx, c, addrs)
		var fe *caller.FanOutError
		Expect(errors.As(err, &fe)).To(BeTrue())
		Expect(fe.Addrs()).To(Equal([]string{addrs[1], addrs[4], addrs[7], addrs[8]}))
		for _, i := range []int{1, 4, 7, 8} {
			Expect(err.Error()).To(ContainSubstring(addrs[i]))
		}
		var ce *caller.CallError
		Expect(errors.As(err, &ce)).To(BeTrue())
		Expect(ce.Index).To(Equal(1))
	}, SpecTimeout(10*time.Second))

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
		Eventually(f.OpenConns).WithArguments(ctx, 0).Should(BeNumerically("<=", 1))
		Expect(f.Calls(ctx)).To(HaveLen(12))
	}, SpecTimeout(10*time.Second))
})
