package container_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/rpc"
	"slices"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/rpcfleet/rpcfleet/caller"
	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
)

// The conformance specs use only the backend-neutral Fleet API, so the very
// same specs run in process and on containers. Select a backend by label:
// --label-filter=container, or --label-filter='!container'.
var (
	_ = Describe("Conformance in process", func() { conformance(on(fleet.InProcess())) })
	_ = Describe("Conformance on containers", Label("container"), func() { conformance(on(containers())) })
)

func conformance(start starter) {
	setFaults := func(ctx context.Context, f *fleet.Fleet, i int, spec string) {
		GinkgoHelper()
		Expect(f.SetServerFaults(ctx, i, faults.MustParse(spec))).To(Succeed())
	}

	It("returns one result per address, each the reply of that server, and journals one call per server", func(ctx SpecContext) {
		const n = 4
		f := start(ctx, n)
		addrs := f.Addrs()
		results, err := fanOut(ctx, newCaller(), addrs)
		Expect(err).NotTo(HaveOccurred())
		Expect(results).To(HaveLen(n))
		for i, r := range results {
			Expect(r.Addr).To(Equal(addrs[i]))
			Expect(r.Reply.Message).To(fromServer(i))
		}
		calls, err := f.Calls(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(calls).To(HaveLen(n))
		for id, c := range calls {
			Expect(c.ID).To(Equal(id))
			Expect(c.Method).To(Equal("Service.Method"))
			Expect(c.Addr).To(Equal(addrs[c.Server]))
			Expect(c.Outcome).To(Equal(faults.OK))
			Expect(c.RepliedAt).To(BeNumerically(">", c.ReceivedAt))
		}
	}, SpecTimeout(time.Minute))

	It("returns results in input order, whatever order the replies come in", func(ctx SpecContext) {
		const n = 4
		f := start(ctx, n)
		for i := range n {
			setFaults(ctx, f, i, fmt.Sprintf("delay=%dms", (n-i)*30)) // server 0 is slowest
		}
		addrs := f.Addrs()
		rng := rand.New(rand.NewPCG(uint64(GinkgoRandomSeed()), 0))
		rng.Shuffle(len(addrs), func(i, j int) { addrs[i], addrs[j] = addrs[j], addrs[i] })

		results, err := fanOut(ctx, newCaller(), addrs)
		Expect(err).NotTo(HaveOccurred())
		for i, r := range results {
			Expect(r.Addr).To(Equal(addrs[i]))
			Expect(r.Reply.Message).To(fromServer(slices.Index(f.Addrs(), addrs[i])))
		}
	}, SpecTimeout(time.Minute))

	It("journals replies fleet-wide in the order of the injected delays", func(ctx SpecContext) {
		const n, step = 4, 80 * time.Millisecond
		f := start(ctx, n)
		for i := range n {
			setFaults(ctx, f, i, fmt.Sprintf("delay=%v", time.Duration(n-i)*step))
		}
		_, err := fanOut(ctx, newCaller(), f.Addrs())
		Expect(err).NotTo(HaveOccurred())

		calls, err := f.Calls(ctx)
		Expect(err).NotTo(HaveOccurred())
		slices.SortFunc(calls, func(a, b fleet.Call) int { return int(a.RepliedAt) - int(b.RepliedAt) })
		var order []int
		for _, c := range calls {
			order = append(order, c.Server)
		}
		Expect(order).To(Equal([]int{3, 2, 1, 0}), "servers in the order they replied")
	}, SpecTimeout(time.Minute))

	It("applies faults given at start, changed and cleared at runtime", func(ctx SpecContext) {
		f := start(ctx, 2, fleet.WithFaults(faults.MustParse("error=at-start")))
		c := newCaller()
		results, _ := fanOut(ctx, c, f.Addrs())
		for _, r := range results {
			Expect(r.Err).To(Equal(rpc.ServerError("at-start")))
		}
		Expect(f.SetFaults(ctx, faults.MustParse("error=later"))).To(Succeed())
		results, _ = fanOut(ctx, c, f.Addrs())
		Expect(results[1].Err).To(Equal(rpc.ServerError("later")))
		Expect(f.ClearFaults(ctx)).To(Succeed())
		_, err := fanOut(ctx, c, f.Addrs())
		Expect(err).NotTo(HaveOccurred())

		calls, err := f.ServerCalls(ctx, 1)
		Expect(err).NotTo(HaveOccurred())
		Expect(calls).To(HaveExactElements(
			And(HaveField("Outcome", faults.Failed), HaveField("Fault", "error=at-start"), HaveField("N", uint64(1))),
			And(HaveField("Outcome", faults.Failed), HaveField("Fault", "error=later"), HaveField("N", uint64(2))),
			And(HaveField("Outcome", faults.OK), HaveField("Rule", -1), HaveField("N", uint64(3))),
		))
	}, SpecTimeout(time.Minute))

	It("reports a killed server as refused, for that address only", func(ctx SpecContext) {
		f := start(ctx, 3)
		Expect(f.Kill(ctx, 2)).To(Succeed())
		addrs := f.Addrs()
		results, err := fanOut(ctx, newCaller(), addrs)
		Expect(err).To(MatchError(syscall.ECONNREFUSED))
		var fe *caller.FanOutError
		Expect(errors.As(err, &fe)).To(BeTrue())
		Expect(fe.Addrs()).To(Equal([]string{addrs[2]}))
		Expect(results[0].Err).NotTo(HaveOccurred())
		Expect(results[1].Err).NotTo(HaveOccurred())
	}, SpecTimeout(time.Minute))

	It("succeeds again once a killed server restarts, at the address Addrs then reports", func(ctx SpecContext) {
		f := start(ctx, 3)
		c := newCaller()
		Expect(f.Kill(ctx, 1)).To(Succeed())
		_, err := fanOut(ctx, c, f.Addrs())
		Expect(err).To(HaveOccurred())

		Expect(f.Restart(ctx, 1)).To(Succeed())
		results, err := fanOut(ctx, c, f.Addrs())
		Expect(err).NotTo(HaveOccurred())
		Expect(results[1].Reply.Message).To(fromServer(1))
		Expect(f.Restart(ctx, 1)).NotTo(Succeed(), "restarting a running server")
	}, SpecTimeout(time.Minute))

	It("passes an error reply's text to the caller as an rpc.ServerError", func(ctx SpecContext) {
		f := start(ctx, 3)
		setFaults(ctx, f, 1, "error=boom")
		results, err := fanOut(ctx, newCaller(), f.Addrs())
		Expect(results[1].Err).To(Equal(rpc.ServerError("boom")))
		var se rpc.ServerError
		Expect(errors.As(err, &se)).To(BeTrue())
		calls, err := f.ServerCalls(ctx, 1)
		Expect(err).NotTo(HaveOccurred())
		Expect(calls).To(ConsistOf(HaveField("Outcome", faults.Failed)))
	}, SpecTimeout(time.Minute))

	It("times out a hanging server within the timeout plus slack, and only that address", func(ctx SpecContext) {
		const timeout = 300 * time.Millisecond
		f := start(ctx, 3)
		setFaults(ctx, f, 2, "hang")
		t0 := time.Now()
		results, err := fanOut(ctx, newCaller(caller.WithTimeout(timeout)), f.Addrs())
		Expect(time.Since(t0)).To(BeNumerically("~", timeout, time.Second))
		Expect(err).To(MatchError(context.DeadlineExceeded))
		Expect(results[2].Err).To(BeAssignableToTypeOf(&caller.TimeoutError{}))
		Expect(results[0].Err).NotTo(HaveOccurred())
		Expect(results[1].Err).NotTo(HaveOccurred())
		calls, err := f.ServerCalls(ctx, 2)
		Expect(err).NotTo(HaveOccurred())
		Expect(calls).To(ConsistOf(HaveField("Outcome", faults.Hung)))
	}, SpecTimeout(time.Minute))

	It("names exactly the failing addresses in a partial failure", func(ctx SpecContext) {
		f := start(ctx, 5)
		setFaults(ctx, f, 1, "error=partial")
		setFaults(ctx, f, 3, "error=partial")
		Expect(f.Kill(ctx, 4)).To(Succeed())
		addrs := f.Addrs()
		_, err := fanOut(ctx, newCaller(), addrs)
		var fe *caller.FanOutError
		Expect(errors.As(err, &fe)).To(BeTrue())
		Expect(fe.Addrs()).To(Equal([]string{addrs[1], addrs[3], addrs[4]}))
	}, SpecTimeout(time.Minute))
}
