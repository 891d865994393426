package suites_test

import (
	"context"
	"errors"
	"net/rpc"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/rpcfleet/rpcfleet/caller"
	"github.com/rpcfleet/rpcfleet/faults"
)

var _ = Describe("Error handling", func() {
	It("reports a killed server as refused, for that address only", func(ctx SpecContext) {
		f := startFleet(ctx, 5)
		Expect(f.Kill(ctx, 2)).To(Succeed())
		c := newCaller()
		addrs := f.Addrs()

		results, err := fanOut(ctx, c, addrs)
		Expect(err).To(MatchError(syscall.ECONNREFUSED))
		var fe *caller.FanOutError
		Expect(errors.As(err, &fe)).To(BeTrue())
		Expect(fe.Addrs()).To(Equal([]string{addrs[2]}))
		for i, r := range results {
			if i == 2 {
				Expect(r.Err).To(MatchError(syscall.ECONNREFUSED))
				continue
			}
			Expect(r.Err).NotTo(HaveOccurred())
		}
	}, SpecTimeout(10*time.Second))

	It("succeeds again once a killed server restarts on the same address", func(ctx SpecContext) {
		f := startFleet(ctx, 3)
		c := newCaller()
		_, err := fanOut(ctx, c, f.Addrs())
		Expect(err).NotTo(HaveOccurred())

		addr := f.Addrs()[1]
		Expect(f.Kill(ctx, 1)).To(Succeed())
		_, err = fanOut(ctx, c, f.Addrs())
		Expect(err).To(HaveOccurred())

		Expect(f.Restart(ctx, 1)).To(Succeed())
		Expect(f.Addrs()[1]).To(Equal(addr))
		results, err := fanOut(ctx, c, f.Addrs())
		Expect(err).NotTo(HaveOccurred())
		Expect(results[1].Reply.Message).To(ContainSubstring("server 1"))
	}, SpecTimeout(10*time.Second))

	It("passes an error reply's text to the caller as an rpc.ServerError", func(ctx SpecContext) {
		f := startFleet(ctx, 4)
		setFaults(f, 1, "error=boom")
		c := newCaller()

		results, err := fanOut(ctx, c, f.Addrs())
		Expect(results[1].Err).To(Equal(rpc.ServerError("boom")))
		var se rpc.ServerError
		Expect(errors.As(err, &se)).To(BeTrue(), "errors.As finds the rpc.ServerError through the aggregate")
		Expect(string(se)).To(Equal("boom"))
		Expect(err.Error()).To(ContainSubstring("boom"))
		Expect(f.Journal().Server(1)).To(ConsistOf(HaveField("Outcome", faults.Failed)))
	}, SpecTimeout(10*time.Second))

	It("times out a hanging server within the timeout plus slack, and only that address", func(ctx SpecContext) {
		const timeout = 300 * time.Millisecond
		f := startFleet(ctx, 6)
		setFaults(f, 3, "hang")
		c := newCaller(caller.WithTimeout(timeout))

		start := time.Now()
		results, err := fanOut(ctx, c, f.Addrs())
		elapsed := time.Since(start)
		Expect(elapsed).To(BeNumerically(">=", timeout))
		Expect(elapsed).To(BeNumerically("<", timeout+time.Second))

		Expect(err).To(MatchError(context.DeadlineExceeded))
		var te *caller.TimeoutError
		Expect(errors.As(err, &te)).To(BeTrue())
		for i, r := range results {
			if i == 3 {
				Expect(r.Err).To(MatchError(context.DeadlineExceeded))
				continue
			}
			Expect(r.Err).NotTo(HaveOccurred(), "result %d", i)
		}
		Expect(f.Journal().Server(3)).To(ConsistOf(HaveField("Outcome", faults.Hung)))
	}, SpecTimeout(10*time.Second))

	It("returns promptly when ctx is cancelled mid-flight", func(ctx SpecContext) {
		f := startFleet(ctx, 10)
		Expect(f.SetFaults(ctx, faults.MustParse("hang"))).To(Succeed())
		c := newCaller(caller.WithTimeout(time.Minute))

		fctx, cancel := context.WithCancel(ctx)
		time.AfterFunc(100*time.Millisecond, cancel)
		start := time.Now()
		results, err := fanOut(fctx, c, f.Addrs())
		Expect(time.Since(start)).To(BeNumerically("<", time.Second+100*time.Millisecond))

		Expect(err).To(MatchError(context.Canceled))
		for _, r := range results {
			Expect(r.Err).To(MatchError(context.Canceled))
		}
	}, SpecTimeout(10*time.Second))

	It("names exactly the failing addresses in a partial failure", func(ctx SpecContext) {
		f := startFleet(ctx, 10)
		for _, i := range []int{1, 4, 7} {
			setFaults(f, i, "error=partial")
		}
		Expect(f.Kill(ctx, 8)).To(Succeed())
		c := newCaller()
		addrs := f.Addrs()

		results, err := fanOut(ctx, c, addrs)
		var fe *caller.FanOutError
		Expect(errors.As(err, &fe)).To(BeTrue())
		Expect(fe.Addrs()).To(Equal([]string{addrs[1], addrs[4], addrs[7], addrs[8]}))
		for _, i := range []int{1, 4, 7, 8} {
			Expect(err.Error()).To(ContainSubstring(addrs[i]))
		}
		var ce *caller.CallError
		Expect(errors.As(err, &ce)).To(BeTrue())
		Expect(ce.Index).To(Equal(1))
		ok := 0
		for _, r := range results {
			if r.Err == nil {
				ok++
			}
		}
		Expect(ok).To(Equal(6))
	}, SpecTimeout(10*time.Second))
})
