package container_test

import (
	"context"
	"errors"
	"net/rpc"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
)

// What the conformance suite takes for granted of every backend: faults
// set at start and at runtime, and a journal of the same shape, merged
// fleet-wide, that outlives a kill. The very same specs run in process and
// on containers; select a backend by label (--label-filter=container, or
// '!container').
var (
	_ = Describe("Fleet API in process", func() { fleetAPI(on(fleet.InProcess())) })
	_ = Describe("Fleet API on containers", Label("container"), func() { fleetAPI(on(containers())) })
)

func fleetAPI(start starter) {
	It("journals one call per server, fleet-wide, in the same shape", func(ctx SpecContext) {
		const n = 3
		f := start(ctx, n)
		Expect(f.SetServerFaults(ctx, 0, faults.MustParse("delay=100ms"))).To(Succeed())
		addrs := f.Addrs()
		results, err := fanOut(ctx, newCaller(), addrs)
		Expect(err).NotTo(HaveOccurred())
		for i, r := range results {
			Expect(r.Reply.Message).To(fromServer(i))
		}
		calls, err := f.Calls(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(calls).To(HaveLen(n))
		for id, c := range calls {
			Expect(c.ID).To(Equal(id))
			Expect(c.Method).To(Equal("Service.Method"))
			Expect(c.Addr).To(Equal(addrs[c.Server]))
			Expect(c.Outcome).To(Equal(fleet.OK))
			Expect(c.Replied).NotTo(BeTemporally("<", c.Received))
			Expect(c.RepliedAt).To(BeNumerically(">", c.ReceivedAt))
		}
		last := calls[0]
		for _, c := range calls {
			if c.RepliedAt > last.RepliedAt {
				last = c
			}
		}
		Expect(last.Server).To(Equal(0), "the delayed server replied last, fleet-wide")
		Expect(last).To(And(HaveField("DelayRule", 0), HaveField("Delay", 100*time.Millisecond),
			HaveField("Rule", -1), HaveField("Fault", "")), "a delay, and no outcome fault")
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
			And(HaveField("Outcome", fleet.Failed), HaveField("Fault", "error=at-start"), HaveField("N", uint64(1))),
			And(HaveField("Outcome", fleet.Failed), HaveField("Fault", "error=later"), HaveField("N", uint64(2))),
			And(HaveField("Outcome", fleet.OK), HaveField("Rule", -1), HaveField("N", uint64(3))),
		))
	}, SpecTimeout(time.Minute))

	It("keeps a killed server's calls in the journal, through its restart", func(ctx SpecContext) {
		f := start(ctx, 2)
		_, err := fanOut(ctx, newCaller(), f.Addrs())
		Expect(err).NotTo(HaveOccurred())
		Expect(f.Kill(ctx, 1)).To(Succeed())
		Expect(f.ServerCalls(ctx, 1)).To(HaveLen(1), "while the server is down")
		Expect(f.Restart(ctx, 1)).To(Succeed())
		// A fresh caller: the journal is the point here, not how a pool
		// copes with a connection that died while nobody used it.
		_, err = fanOut(ctx, newCaller(), f.Addrs())
		Expect(err).NotTo(HaveOccurred())
		calls, err := f.ServerCalls(ctx, 1)
		Expect(err).NotTo(HaveOccurred())
		Expect(calls).To(HaveExactElements(HaveField("Outcome", fleet.OK), HaveField("Outcome", fleet.OK)))
		// The merged journal holds both of server 1's calls beside server
		// 0's (counted by server: a call from another process that dials
		// a port Docker has just reused would land on server 0 too).
		all, err := f.Calls(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(all).To(HaveEach(HaveField("Server", BeElementOf(0, 1))))
		Expect(slices.DeleteFunc(all, func(c fleet.Call) bool { return c.Server != 1 })).To(HaveExactElements(
			And(HaveField("Addr", calls[0].Addr), HaveField("Outcome", fleet.OK)),
			And(HaveField("Addr", calls[1].Addr), HaveField("Outcome", fleet.OK))))
	}, SpecTimeout(time.Minute))

	It("picks the same servers for a share-of-the-fleet rule as an in-process fleet with the same seed", func(ctx SpecContext) {
		const n = 4
		plan := fleet.WithFaults(faults.MustParse("error=picked,servers=50%"))
		picked := func(f *fleet.Fleet) []int {
			GinkgoHelper()
			results, _ := fanOut(ctx, newCaller(), f.Addrs())
			var out []int
			for i, r := range results {
				if r.Err != nil {
					Expect(r.Err).To(Equal(rpc.ServerError("picked")))
					out = append(out, i)
				}
			}
			return out
		}
		want := picked(on(fleet.InProcess())(ctx, n, plan))
		Expect(want).To(HaveLen(n / 2))
		Expect(picked(start(ctx, n, plan))).To(Equal(want))
	}, SpecTimeout(time.Minute))

	It("reports abilities its backend lacks as errors.ErrUnsupported, and rejects bad indexes", func(ctx SpecContext) {
		f := start(ctx, 1)
		for _, op := range []func(context.Context, int) error{f.Pause, f.Unpause, f.Disconnect, f.Reconnect} {
			if err := op(ctx, 0); err != nil {
				Expect(err).To(MatchError(errors.ErrUnsupported))
			}
		}
		Expect(f.Kill(ctx, 1)).To(MatchError(ContainSubstring("no such server")))
	}, SpecTimeout(time.Minute))
}
