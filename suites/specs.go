package suites

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/rpc"
	"sync"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gleak"

	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites/matchers"
)

// Conformance registers the fan-out conformance specs, in a container
// labelled "conformance", for the implementation newImpl returns. Call it
// inside a Ginkgo suite's tree (at the top level as var _ = Conformance(…),
// or inside a Describe that adds labels such as "container"). Every spec
// calls newImpl once, after starting its own fleet, with the per-call
// timeout the implementation is to use if it has one (see TimesOut), and
// closes the result when it ends (see FanOuter).
//
// The specs cover completion (one outcome per address, each that server's
// reply; return only after every reply; 0, 1 and 1,000 addresses),
// ordering (input order, completion order, parallelism), error handling
// (refused, error reply, drop, corrupt, crash mid-call, kill and restart,
// hang with timeout, ctx cancelled, partial failure), hygiene (no
// goroutine or connection left behind, race-free under concurrent
// fan-outs) and repeatability (same seed, same outcomes). Options say which
// behaviours the implementation claims; specs of behaviours it does not
// claim are skipped. Every spec has a SpecTimeout, and a FanOut that does
// not return in time fails its spec rather than hanging the suite.
func Conformance(newImpl func(timeout time.Duration) FanOuter, opts ...Option) bool {
	cfg := defaults()
	for _, o := range opts {
		o(&cfg)
	}
	h := &harness{cfg: cfg, newImpl: newImpl}
	return Describe("fan-out conformance", Label("conformance"), func() {
		// Registered first, so it runs last: after the implementation is
		// closed and the fleet stopped, nothing is left.
		BeforeEach(func() {
			baseline := gleak.Goroutines()
			DeferCleanup(func(ctx SpecContext) {
				Eventually(gleak.Goroutines).WithContext(ctx).WithTimeout(h.scale(5*time.Second)).ShouldNot(
					matchers.HaveLeaked(baseline, notOwnedByBackend()), "goroutines left after the spec")
			}, NodeTimeout(h.scale(20*time.Second)))
		})
		h.completion()
		h.ordering()
		h.errorHandling()
		h.hygiene()
		h.repeatability()
	})
}

func (h *harness) completion() {
	Describe("completion", func() {
		It("returns no outcomes and no error for no addresses", func(ctx SpecContext) {
			run := h.fanOutUnder(ctx, ctx, nil, h.implOnly(), nil, h.within())
			Expect(run.Outcomes).To(BeEmpty())
			Expect(run.Err).NotTo(HaveOccurred())
		}, SpecTimeout(h.scale(20*time.Second)))

		oneEach := func(ctx context.Context, n int, within time.Duration) {
			e := h.setup(ctx, n)
			run := h.fanOut(ctx, e, e.f.Addrs(), within)
			outcomes := h.inOrder(run)
			Expect(run).To(matchers.AllSucceed())
			h.expectAggregate(run, nil)
			h.expectReplies(e.f, run.Addrs, outcomes)
			Expect(run).To(matchers.HaveOneCallPerServer(n), "each server received exactly one call")
			Expect(run).To(matchers.ReturnAfterAllReplies())
		}
		It("returns one outcome per address, that server's reply: 1 address", func(ctx SpecContext) {
			oneEach(ctx, 1, h.within())
		}, SpecTimeout(h.scale(20*time.Second)))

		It("returns only after every server has replied", func(ctx SpecContext) {
			e := h.setup(ctx, 20, fleet.WithFaults(faults.MustParse("delay=40ms,jitter=40ms")))
			run := h.fanOut(ctx, e, e.f.Addrs(), h.within())
			Expect(run).To(matchers.ReturnAfterAllReplies())
			Expect(run).To(matchers.AllSucceed())
			h.expectAggregate(run, nil)
			Expect(h.inOrder(run)).To(HaveLen(20))
			Expect(run).To(matchers.HaveOneCallPerServer(20))
			for _, c := range run.Calls {
				Expect(c.Outcome).To(Equal(faults.OK), "server %d's call", c.Server)
			}
		}, SpecTimeout(h.scale(20*time.Second)))

		h.it(h.cfg.large > 0, fmt.Sprintf("returns one outcome per address, that server's reply: %d addresses", h.cfg.large), func(ctx SpecContext) {
			oneEach(ctx, h.cfg.large, h.long()+h.cfg.slack)
		}, SpecTimeout(h.scale(90*time.Second)),
			// Alone: a thousand ephemeral ports taken while other
			// processes kill servers would now and then include a port
			// just freed, and a call meant to be refused would land here.
			Serial)
	})
}

func (h *harness) ordering() {
	Describe("ordering", func() {
		It("matches every outcome to its address, whatever order the replies come in", func(ctx SpecContext) {
			const n = 8
			e := h.setup(ctx, n)
			for i := range n {
				// Server 0 is slowest, so replies arrive in reverse order.
				Expect(e.f.SetServerFaults(ctx, i, faults.MustParse(fmt.Sprintf("delay=%dms", (n-i)*15)))).To(Succeed())
			}
			addrs := e.f.Addrs()
			rng := rand.New(rand.NewPCG(uint64(GinkgoRandomSeed()), 0))
			rng.Shuffle(len(addrs), func(i, j int) { addrs[i], addrs[j] = addrs[j], addrs[i] })

			run := h.fanOut(ctx, e, addrs, h.within())
			outcomes := h.inOrder(run)
			Expect(run).To(matchers.AllSucceed())
			h.expectReplies(e.f, addrs, outcomes)
		}, SpecTimeout(h.scale(20*time.Second)))

		It("sees replies complete in the order of the injected delays", func(ctx SpecContext) {
			// Steps far apart: a call received late on a busy machine
			// must not overtake its neighbour.
			const n, step = 5, 250 * time.Millisecond
			e := h.setup(ctx, n)
			for i := range n {
				Expect(e.f.SetServerFaults(ctx, i, faults.MustParse(fmt.Sprintf("delay=%v", time.Duration(n-i)*step)))).To(Succeed())
			}
			run := h.fanOut(ctx, e, e.f.Addrs(), h.within())
			outcomes := h.inOrder(run)
			Expect(run).To(matchers.AllSucceed())
			for i, o := range outcomes {
				if o.Latency != 0 { // measured
					Expect(o.Latency).To(BeNumerically(">=", time.Duration(n-i)*step), "latency of outcome %d", i)
				}
			}
			Expect(run).To(matchers.ReplyInOrder(4, 3, 2, 1, 0))
		}, SpecTimeout(h.scale(20*time.Second)))

		It("calls servers in parallel: 50 servers delayed 500ms finish in about 500ms, not 25s", func(ctx SpecContext) {
			// Slower backends (WithSlack) get a longer delay: all 50
			// calls must reach their servers within it.
			const n = 50
			d := h.scale(500 * time.Millisecond)
			e := h.setup(ctx, n, fleet.WithFaults(faults.MustParse(fmt.Sprintf("delay=%v", d))))
			run := h.fanOut(ctx, e, e.f.Addrs(), d+h.late())
			Expect(run).To(matchers.AllSucceed())
			Expect(run.Elapsed).To(BeNumerically(">=", d))
			Expect(run).To(matchers.CompleteWithin(d+h.late()), "serial calls would take %v", n*d)
			// The time bound leaves room for a loaded machine, so a caller
			// with a few calls in flight at a time could pass it; the
			// journal cannot be fooled: all 50 must be in before any reply.
			Expect(run).To(matchers.ReceiveAllBeforeFirstReply(), "a caller with 5 calls in flight at a time would take %v", n/5*d)
		}, SpecTimeout(h.scale(20*time.Second)))
	})
}

func (h *harness) errorHandling() {
	Describe("error handling", func() {
		It("reports a refused dial, for that address only", func(ctx SpecContext) {
			e := h.setup(ctx, 5)
			Expect(e.f.Kill(ctx, 2)).To(Succeed())
			addrs := e.f.Addrs()
			run := h.fanOut(ctx, e, addrs, h.within())
			outcomes := h.inOrder(run)
			Expect(run).To(matchers.FailExactlyOn(addrs[2]))
			Expect(outcomes[2].Err).To(MatchError(syscall.ECONNREFUSED))
			h.expectAggregate(run, addrs[2:3], syscall.ECONNREFUSED)
		}, SpecTimeout(h.scale(20*time.Second)))

		It("passes an error reply's text to the caller as an rpc.ServerError", func(ctx SpecContext) {
			e := h.setup(ctx, 4)
			Expect(e.f.SetServerFaults(ctx, 1, faults.MustParse("error=boom"))).To(Succeed())
			addrs := e.f.Addrs()
			run := h.fanOut(ctx, e, addrs, h.within())
			outcomes := h.inOrder(run)
			Expect(run).To(matchers.FailExactlyOn(addrs[1]))
			var se rpc.ServerError
			Expect(errors.As(outcomes[1].Err, &se)).To(BeTrue(), "errors.As finds an rpc.ServerError in %v", outcomes[1].Err)
			Expect(string(se)).To(Equal("boom"))
			h.expectAggregate(run, addrs[1:2], MatchError(ContainSubstring("boom")),
				WithTransform(func(err error) bool { return errors.As(err, new(rpc.ServerError)) }, BeTrue()))
			Expect(run).To(matchers.HaveOneCallPerServer(4))
			Expect(e.f.ServerCalls(ctx, 1)).To(ConsistOf(HaveField("Outcome", faults.Failed)))
		}, SpecTimeout(h.scale(20*time.Second)))

		It("reports a dropped connection (io.ErrUnexpectedEOF), for that address only", func(ctx SpecContext) {
			e := h.setup(ctx, 4)
			Expect(e.f.SetServerFaults(ctx, 0, faults.MustParse("drop"))).To(Succeed())
			addrs := e.f.Addrs()
			run := h.fanOut(ctx, e, addrs, h.within())
			outcomes := h.inOrder(run)
			Expect(run).To(matchers.FailExactlyOn(addrs[0]))
			Expect(outcomes[0].Err).To(MatchError(io.ErrUnexpectedEOF))
			h.expectAggregate(run, addrs[:1], io.ErrUnexpectedEOF)
			Expect(e.f.ServerCalls(ctx, 0)).To(ConsistOf(HaveField("Outcome", faults.Aborted)))
		}, SpecTimeout(h.scale(20*time.Second)))

		It("reports a corrupt reply as an error, not a reply, and recovers once the server is sound", func(ctx SpecContext) {
			e := h.setup(ctx, 4)
			Expect(e.f.SetServerFaults(ctx, 2, faults.MustParse("corrupt"))).To(Succeed())
			addrs := e.f.Addrs()
			run := h.fanOut(ctx, e, addrs, h.within())
			outcomes := h.inOrder(run)
			Expect(run).To(matchers.FailExactlyOn(addrs[2]))
			Expect(errors.As(outcomes[2].Err, new(rpc.ServerError))).To(BeFalse(), "not an error reply: %v", outcomes[2].Err)
			h.expectAggregate(run, addrs[2:3])

			Expect(e.f.SetServerFaults(ctx, 2, faults.Plan{})).To(Succeed())
			run = h.fanOut(ctx, e, addrs, h.within())
			h.expectReplies(e.f, addrs, h.inOrder(run))
			Expect(run).To(matchers.AllSucceed())
		}, SpecTimeout(h.scale(20*time.Second)))

		It("reports a server that crashes mid-call, and reaches it again once it restarts", func(ctx SpecContext) {
			e := h.setup(ctx, 4)
			Expect(e.f.SetServerFaults(ctx, 1, faults.MustParse("crash"))).To(Succeed())
			addrs := e.f.Addrs()
			run := h.fanOut(ctx, e, addrs, h.within())
			h.inOrder(run)
			Expect(run).To(matchers.FailExactlyOn(addrs[1]))
			h.expectAggregate(run, addrs[1:2])

			Expect(e.f.Restart(ctx, 1)).To(Succeed())
			Expect(e.f.SetServerFaults(ctx, 1, faults.Plan{})).To(Succeed())
			addrs = e.f.Addrs()
			run = h.fanOut(ctx, e, addrs, h.within())
			h.expectReplies(e.f, addrs, h.inOrder(run))
			Expect(run).To(matchers.AllSucceed())
		}, SpecTimeout(h.scale(30*time.Second)))

		It("reaches a killed server again once it restarts", func(ctx SpecContext) {
			e := h.setup(ctx, 3)
			run := h.fanOut(ctx, e, e.f.Addrs(), h.within())
			Expect(run).To(matchers.AllSucceed())

			addr := e.f.Addrs()[1]
			Expect(e.f.Kill(ctx, 1)).To(Succeed())
			run = h.fanOut(ctx, e, e.f.Addrs(), h.within())
			h.inOrder(run)
			Expect(run).To(matchers.FailExactlyOn(addr))

			Expect(e.f.Restart(ctx, 1)).To(Succeed())
			if e.f.Server(1) != nil {
				Expect(e.f.Addrs()[1]).To(Equal(addr), "an in-process server restarts on its address")
			}
			addrs := e.f.Addrs()
			run = h.fanOut(ctx, e, addrs, h.within())
			outcomes := h.inOrder(run)
			Expect(run).To(matchers.AllSucceed())
			h.expectReplies(e.f, addrs, outcomes)
			Expect(outcomes[1].Reply.Message).To(ContainSubstring("server 1"))
		}, SpecTimeout(h.scale(30*time.Second)))

		h.it(h.cfg.timesOut, "times out a hanging server soon after the timeout, and only that address", func(ctx SpecContext) {
			timeout := h.short()
			e := h.setupWith(ctx, 6, timeout)
			Expect(e.f.SetServerFaults(ctx, 3, faults.MustParse("hang"))).To(Succeed())
			addrs := e.f.Addrs()
			run := h.fanOut(ctx, e, addrs, timeout+h.late())
			Expect(run.Elapsed).To(BeNumerically(">=", timeout))
			Expect(run).To(matchers.CompleteWithin(timeout + h.late()))
			outcomes := h.inOrder(run)
			Expect(run).To(matchers.FailExactlyOn(addrs[3]))
			Expect(outcomes[3].Err).To(MatchError(context.DeadlineExceeded))
			h.expectAggregate(run, addrs[3:4], context.DeadlineExceeded)
			Expect(e.f.ServerCalls(ctx, 3)).To(ConsistOf(HaveField("Outcome", faults.Hung)))
		}, SpecTimeout(h.scale(20*time.Second)))

		h.it(h.cfg.cancels, "returns promptly when ctx is cancelled mid-flight, every unfinished call failing with ctx's error", func(ctx SpecContext) {
			const after = 100 * time.Millisecond
			e := h.setup(ctx, 10, fleet.WithFaults(faults.MustParse("hang")))
			fctx, cancel := context.WithCancel(ctx)
			defer cancel()
			time.AfterFunc(after, cancel)
			run := h.fanOutUnder(ctx, fctx, e.f, e.impl, e.f.Addrs(), after+h.late())
			Expect(run).To(matchers.CompleteWithin(after + h.late()))
			outcomes := h.inOrder(run)
			for i, o := range outcomes {
				Expect(o.Err).To(MatchError(context.Canceled), "outcome %d", i)
			}
			h.expectAggregate(run, run.Addrs, context.Canceled)
			e.Finish(ctx) // nothing left waiting on the hanging servers
		}, SpecTimeout(h.scale(20*time.Second)))

		It("names exactly the failing addresses in a partial failure", func(ctx SpecContext) {
			e := h.setup(ctx, 10)
			for _, i := range []int{1, 4, 7} {
				Expect(e.f.SetServerFaults(ctx, i, faults.MustParse("error=partial"))).To(Succeed())
			}
			Expect(e.f.Kill(ctx, 8)).To(Succeed())
			addrs := e.f.Addrs()
			failed := []string{addrs[1], addrs[4], addrs[7], addrs[8]}
			run := h.fanOut(ctx, e, addrs, h.within())
			outcomes := h.inOrder(run)
			Expect(run).To(matchers.FailExactlyOn(failed...))
			Expect(outcomes[8].Err).To(MatchError(syscall.ECONNREFUSED))
			ok := 0
			for _, o := range outcomes {
				if o.Err == nil {
					ok++
				}
			}
			Expect(ok).To(Equal(6))
			h.expectAggregate(run, failed, syscall.ECONNREFUSED,
				WithTransform(func(err error) bool { return errors.As(err, new(rpc.ServerError)) }, BeTrue()))
		}, SpecTimeout(h.scale(20*time.Second)))
	})
}

func (h *harness) hygiene() {
	Describe("hygiene", func() {
		h.it(h.cfg.timesOut, "leaves no goroutine behind after fan-outs to hanging and slow servers", func(ctx SpecContext) {
			e := h.setupWith(ctx, 5, h.short())
			Expect(e.f.SetServerFaults(ctx, 0, faults.MustParse("hang"))).To(Succeed())
			Expect(e.f.SetServerFaults(ctx, 1, faults.MustParse("delay=10s"))).To(Succeed())
			addrs := e.f.Addrs()
			for range 3 {
				run := h.fanOut(ctx, e, addrs, h.short()+h.late())
				h.inOrder(run)
				Expect(run).To(matchers.FailExactlyOn(addrs[0], addrs[1]))
			}
			e.Finish(ctx) // goroutines and connections, while the servers still hang
		}, SpecTimeout(h.scale(30*time.Second)))

		h.it(!h.cfg.noConns, "closes every connection it opens: the fleet's open connections return to their baseline", func(ctx SpecContext) {
			e := h.setup(ctx, 5)
			Expect(openConns(e.f)).To(BeNumerically(">=", 0), "the fleet's backend cannot count its connections: use suites.WithoutConnCount()")
			before := openConns(e.f)
			Expect(e.f.SetServerFaults(ctx, 4, faults.MustParse("error=x"))).To(Succeed())
			for range 3 {
				run := h.fanOut(ctx, e, e.f.Addrs(), h.within())
				Expect(run).To(matchers.FailExactlyOn(e.f.Addrs()[4]))
			}
			e.Finish(ctx)
			Expect(openConns(e.f)).To(Equal(before))
		}, SpecTimeout(h.scale(20*time.Second)))

		It("is race-free when many fan-outs share one implementation", func(ctx SpecContext) {
			const n, fanOuts = 10, 20
			e := h.setup(ctx, n, fleet.WithFaults(faults.MustParse("delay=5ms,jitter=5ms;error=flaky,p=0.2")))
			var wg sync.WaitGroup
			for range fanOuts {
				wg.Go(func() {
					defer GinkgoRecover()
					run := h.fanOut(ctx, e, e.f.Addrs(), h.within())
					Expect(run.Outcomes).To(HaveLen(n))
					h.expectReplies(e.f, run.Addrs, h.inOrder(run))
				})
			}
			wg.Wait()
			Expect(e.f.Calls(ctx)).To(HaveLen(n*fanOuts), "every fan-out called every server once")
		}, SpecTimeout(h.scale(30*time.Second)))
	})
}

func (h *harness) repeatability() {
	Describe("repeatability", func() {
		It("gives the same outcomes for the same seed, and others for another", func(ctx SpecContext) {
			const n, rounds = 10, 3
			plan := faults.MustParse("error=e,p=0.3;delay=1ms,jitter=1ms,p=0.3")
			outcomes := func(seed uint64) []string {
				e := h.setup(ctx, n, fleet.WithSeed(seed), fleet.WithFaults(plan))
				var out []string
				for r := range rounds {
					run := h.fanOut(ctx, e, e.f.Addrs(), h.within())
					for i, o := range h.inOrder(run) {
						out = append(out, fmt.Sprintf("round %d, server %d: %s", r, i, okOrErr(o)))
					}
				}
				return out
			}
			seed := uint64(GinkgoRandomSeed())
			first := outcomes(seed)
			Expect(first).To(HaveLen(n * rounds))
			Expect(outcomes(seed)).To(Equal(first))
			Expect(outcomes(seed + 1)).NotTo(Equal(first))
		}, SpecTimeout(h.scale(30*time.Second)))
	})
}

// okOrErr is "ok" or "failed": error texts may name addresses, which
// differ between fleets.
func okOrErr(o Outcome) string {
	if o.Err == nil {
		return "ok"
	}
	return "failed"
}
