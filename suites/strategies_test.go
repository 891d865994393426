package suites_test

import (
	"context"
	"errors"
	"fmt"
	"net/rpc"
	"slices"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/rpcfleet/rpcfleet/caller"
	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// The strategy path (workers, slots, tries) must keep every promise of the
// plain wait-all path: the conformance suite runs against it too, with a
// concurrency limit above any fleet it starts and one try per address.
var _ = Describe("the reference caller on its strategy path", Label("reference", "strategies"), func() {
	suites.Conformance(func(timeout time.Duration) suites.FanOuter {
		return suites.Reference(caller.New(caller.WithTimeout(timeout), caller.WithDialTimeout(timeout), caller.WithConcurrency(1<<20)))
	}, suites.TimesOut(), suites.HonoursCancel(), suites.KeepsInputOrder(), suites.AggregatesErrors())
})

// The reference caller's strategies, proved on the in-process fleet. Time
// bounds are generous (the machine may be a busy two-core box running
// with -race): each spec pits a bound of a few seconds against a fault of
// 5s or more, so only a strategy that does not work can miss it.
var _ = Describe("Reference caller strategies", Label("reference", "strategies"), func() {
	// quick bounds a fan-out that must not wait for the 5s (or 10s)
	// delays of its slow servers.
	const quick = 3500 * time.Millisecond

	// timed runs a fan-out and returns its results, error and duration.
	timed := func(ctx context.Context, c *caller.Caller, addrs []string) ([]caller.Result[fleet.Reply], error, time.Duration) {
		start := time.Now()
		results, err := fanOut(ctx, c, addrs)
		return results, err, time.Since(start)
	}

	// calls returns the journal, from every server.
	calls := func(ctx context.Context, f *fleet.Fleet) []fleet.Call {
		GinkgoHelper()
		cs, err := f.Calls(ctx)
		Expect(err).NotTo(HaveOccurred())
		return cs
	}

	// byServer counts the journal's calls per server.
	byServer := func(cs []fleet.Call) map[int]int {
		n := map[int]int{}
		for _, c := range cs {
			n[c.Server]++
		}
		return n
	}

	// maxInFlight is the largest number of calls the servers held at once,
	// from the fleet-wide order of receipts and replies: a call is in
	// flight from its ReceivedAt to its RepliedAt.
	maxInFlight := func(cs []fleet.Call) int {
		GinkgoHelper()
		type event struct {
			at    uint64
			delta int
		}
		var events []event
		for _, c := range cs {
			Expect(c.RepliedAt).NotTo(BeZero(), "call %d (server %d) was never replied to", c.ID, c.Server)
			events = append(events, event{c.ReceivedAt, +1}, event{c.RepliedAt, -1})
		}
		slices.SortFunc(events, func(a, b event) int { return int(a.at) - int(b.at) })
		most, now := 0, 0
		for _, e := range events {
			now += e.delta
			most = max(most, now)
		}
		return most
	}

	Describe("fail-fast", func() {
		It("returns soon after the first error; the rest are cancelled, not failed, and never waited for", func(ctx SpecContext) {
			f := startFleet(ctx, 10)
			Expect(f.SetFaults(ctx, faults.MustParse("error=boom,servers=0;delay=5s,servers=1-9"))).To(Succeed())
			c := newCaller(caller.WithFailFast())
			addrs := f.Addrs()

			results, err, took := timed(ctx, c, addrs)
			Expect(took).To(BeNumerically("<", quick), "the slow calls were waited for")
			journal := calls(ctx, f) // read at once: the slow calls are still running

			var fe *caller.FanOutError
			Expect(errors.As(err, &fe)).To(BeTrue())
			Expect(fe.Addrs()).To(Equal(addrs[:1]), "only the failed address is a failure")
			Expect(fe.Cancelled).To(Equal(9))
			Expect(err).To(MatchError(rpc.ServerError("boom")))
			Expect(err).NotTo(MatchError(caller.ErrCancelled))
			Expect(results[0].Cancelled).To(BeFalse())
			for i := 1; i < 10; i++ {
				Expect(results[i].Err).To(MatchError(caller.ErrCancelled), "result %d", i)
				Expect(results[i].Cancelled).To(BeTrue(), "result %d", i)
			}
			// Sent at once, the other calls reached their servers, which
			// had not replied when the fan-out returned.
			for _, call := range journal {
				if call.Server != 0 {
					Expect(call.Outcome).To(Equal(fleet.Pending), "server %d replied before the fan-out returned", call.Server)
				}
			}
		}, SpecTimeout(20*time.Second))

		It("never sends the calls still waiting for a slot", func(ctx SpecContext) {
			f := startFleet(ctx, 10)
			Expect(f.SetFaults(ctx, faults.MustParse("error=boom,servers=0;delay=5s,servers=1-9"))).To(Succeed())
			c := newCaller(caller.WithFailFast(), caller.WithConcurrency(2))

			results, err, took := timed(ctx, c, f.Addrs())
			Expect(took).To(BeNumerically("<", quick))
			Expect(err).To(MatchError(rpc.ServerError("boom")))
			sent := byServer(calls(ctx, f))
			Expect(len(sent)).To(BeNumerically("<=", 2), "calls sent: %v", sent)
			for i := 2; i < 10; i++ {
				Expect(sent).NotTo(HaveKey(i), "server %d was called after the failure", i)
				Expect(results[i].Attempts).To(BeZero())
				Expect(results[i].Err).To(MatchError(caller.ErrCancelled))
				Expect(results[i].Cancelled).To(BeTrue())
			}
		}, SpecTimeout(20*time.Second))
	})

	Describe("quorum", func() {
		It("returns after k successes and cancels the rest", func(ctx SpecContext) {
			f := startFleet(ctx, 10)
			Expect(f.SetFaults(ctx, faults.MustParse("delay=5s,servers=3-9"))).To(Succeed())
			c := newCaller(caller.WithQuorum(3))
			addrs := f.Addrs()

			results, err, took := timed(ctx, c, addrs)
			Expect(took).To(BeNumerically("<", quick))
			Expect(err).NotTo(HaveOccurred())
			journal := calls(ctx, f)
			for i, r := range results {
				if i < 3 {
					Expect(r.Err).NotTo(HaveOccurred())
					Expect(r.Reply.Message).To(Equal(fleet.Greeting("Alice", i, addrs[i])))
				} else {
					Expect(r.Err).To(MatchError(caller.ErrCancelled), "result %d", i)
					Expect(r.Err.Error()).To(ContainSubstring("quorum of 3 reached"))
					Expect(r.Cancelled).To(BeTrue())
					// Sent, unless the quorum came before its goroutine
					// got to send it (a dial is slow on a busy machine).
					Expect(r.Attempts).To(BeNumerically("<=", 1))
				}
			}
			for _, call := range journal {
				if call.Server >= 3 {
					Expect(call.Outcome).To(Equal(fleet.Pending), "server %d replied before the fan-out returned", call.Server)
				}
			}
		}, SpecTimeout(20*time.Second))

		It("gives up as soon as the quorum is out of reach, naming the failed addresses", func(ctx SpecContext) {
			f := startFleet(ctx, 5)
			Expect(f.SetFaults(ctx, faults.MustParse("error=down,servers=0-2;delay=5s,servers=3-4"))).To(Succeed())
			c := newCaller(caller.WithQuorum(3))
			addrs := f.Addrs()

			results, err, took := timed(ctx, c, addrs)
			Expect(took).To(BeNumerically("<", quick))
			var fe *caller.FanOutError
			Expect(errors.As(err, &fe)).To(BeTrue())
			Expect(fe.Quorum).To(Equal(3))
			Expect(fe.Addrs()).To(Equal(addrs[:3]))
			Expect(fe.Cancelled).To(Equal(2))
			Expect(err.Error()).To(ContainSubstring("quorum of 3 not reached"))
			Expect(results[3].Cancelled).To(BeTrue())
			Expect(results[4].Cancelled).To(BeTrue())
		}, SpecTimeout(20*time.Second))
	})

	Describe("hedging", func() {
		It("finishes in about the hedge delay plus a normal call when one server is slow", func(ctx SpecContext) {
			const hedge, normal = 500 * time.Millisecond, 20 * time.Millisecond
			f := startFleet(ctx, 5)
			Expect(f.SetFaults(ctx, faults.MustParse(fmt.Sprintf("delay=10s,servers=2;delay=%v", normal)))).To(Succeed())
			c := newCaller(caller.WithHedge(hedge, 1))
			addrs := f.Addrs()

			results, err, took := timed(ctx, c, addrs)
			Expect(err).NotTo(HaveOccurred())
			Expect(took).To(BeNumerically(">=", hedge))
			Expect(took).To(BeNumerically("<", hedge+normal+1500*time.Millisecond), "the slow server was waited for")
			Expect(results[2].Hedged).To(BeTrue())
			Expect(results[2].From).To(Equal(addrs[3]), "the hedge goes to the next address of the group")
			Expect(results[2].Reply.Message).To(Equal(fleet.Greeting("Alice", 3, addrs[3])))
			Expect(results[2].Attempts).To(Equal(2))
			for i, r := range results {
				if i != 2 {
					Expect(r.Hedged).To(BeFalse(), "result %d", i)
					Expect(r.Attempts).To(Equal(1), "result %d", i)
					Expect(r.From).To(Equal(addrs[i]))
				}
			}
			Expect(byServer(calls(ctx, f))).To(Equal(map[int]int{0: 1, 1: 1, 2: 1, 3: 2, 4: 1}))
		}, SpecTimeout(20*time.Second))

		It("hedges only within a group", func(ctx SpecContext) {
			f := startFleet(ctx, 4)
			Expect(f.SetFaults(ctx, faults.MustParse("delay=10s,servers=0"))).To(Succeed())
			addrs := f.Addrs()
			c := newCaller(caller.WithHedge(300*time.Millisecond, 3), caller.WithGroups([][]string{{addrs[0], addrs[2]}, {addrs[1], addrs[3]}}))

			results, err, _ := timed(ctx, c, addrs)
			Expect(err).NotTo(HaveOccurred())
			Expect(results[0].From).To(Equal(addrs[2]))
			Expect(results[0].Attempts).To(Equal(2), "the group has one other member")
			Expect(byServer(calls(ctx, f))).To(Equal(map[int]int{0: 1, 1: 1, 2: 2, 3: 1}))
		}, SpecTimeout(20*time.Second))

		It("hedges stragglers only: a slowdown of the whole fan-out sends no burst of hedges", func(ctx SpecContext) {
			f := startFleet(ctx, 20)
			Expect(f.SetFaults(ctx, faults.MustParse("delay=300ms"))).To(Succeed())
			c := newCaller(caller.WithHedge(20*time.Millisecond, 2))

			_, err := fanOut(ctx, c, f.Addrs())
			Expect(err).NotTo(HaveOccurred())
			// Without the rule, all 20 calls would be hedged twice from
			// 20ms on. With it, a call is hedged only once at most 5 of the
			// 20 are unfinished: after 15 replies, all at 300ms or later.
			journal := calls(ctx, f)
			Expect(len(journal)).To(BeNumerically("<=", 20+2*5))
			for _, hedge := range journal {
				if hedge.N == 1 {
					continue // the server's own call
				}
				replied := 0
				for _, c := range journal {
					if c.RepliedAt != 0 && c.RepliedAt < hedge.ReceivedAt {
						replied++
					}
				}
				Expect(replied).To(BeNumerically(">=", 15), "a hedge sent while %d calls had answered", replied)
			}
		}, SpecTimeout(20*time.Second))

		It("hedges after a quantile of recent latencies once it has seen enough calls", func(ctx SpecContext) {
			f := startFleet(ctx, 10)
			Expect(f.SetFaults(ctx, faults.MustParse("delay=10ms"))).To(Succeed())
			c := newCaller(caller.WithHedgeQuantile(0.9, 1))
			addrs := f.Addrs()
			for range 10 { // 100 calls of about 10ms: the 0.9-quantile is well under a second
				_, err := fanOut(ctx, c, addrs)
				Expect(err).NotTo(HaveOccurred())
			}
			Expect(f.SetServerFaults(ctx, 4, faults.MustParse("delay=10s"))).To(Succeed())

			results, err, took := timed(ctx, c, addrs)
			Expect(err).NotTo(HaveOccurred())
			Expect(took).To(BeNumerically("<", quick))
			Expect(results[4].Hedged).To(BeTrue())
		}, SpecTimeout(30*time.Second))
	})

	Describe("retries", func() {
		It("succeeds on the third attempt against error=boom,first=2", func(ctx SpecContext) {
			f := startFleet(ctx, 5)
			Expect(f.SetFaults(ctx, faults.MustParse("error=boom,first=2"))).To(Succeed())
			c := newCaller(caller.WithRetry(3, 5*time.Millisecond, 50*time.Millisecond))

			results, err := fanOut(ctx, c, f.Addrs())
			Expect(err).NotTo(HaveOccurred())
			for i, r := range results {
				Expect(r.Attempts).To(Equal(3), "result %d", i)
			}
			for i := range 5 {
				cs, err := f.ServerCalls(ctx, i)
				Expect(err).NotTo(HaveOccurred())
				Expect(cs).To(HaveExactElements(
					HaveField("Outcome", fleet.Failed), HaveField("Outcome", fleet.Failed), HaveField("Outcome", fleet.OK)))
			}
		}, SpecTimeout(20*time.Second))

		It("reports the last error when the attempts run out", func(ctx SpecContext) {
			f := startFleet(ctx, 3)
			Expect(f.SetFaults(ctx, faults.MustParse("error=boom,first=2"))).To(Succeed())
			c := newCaller(caller.WithRetry(2, time.Millisecond, 10*time.Millisecond))

			results, err := fanOut(ctx, c, f.Addrs())
			Expect(err).To(MatchError(rpc.ServerError("boom")))
			var fe *caller.FanOutError
			Expect(errors.As(err, &fe)).To(BeTrue())
			Expect(fe.Addrs()).To(Equal(f.Addrs()))
			Expect(results).To(HaveEach(HaveField("Attempts", 2)))
			Expect(calls(ctx, f)).To(HaveLen(6))
		}, SpecTimeout(20*time.Second))

		It("retries a timed-out call, and the aggregate error is context.DeadlineExceeded when all time out", func(ctx SpecContext) {
			f := startFleet(ctx, 2)
			Expect(f.SetFaults(ctx, faults.MustParse("hang"))).To(Succeed())
			c := newCaller(caller.WithTimeout(50*time.Millisecond), caller.WithRetry(3, time.Millisecond, 5*time.Millisecond))

			results, err := fanOut(ctx, c, f.Addrs())
			Expect(err).To(MatchError(context.DeadlineExceeded))
			var te *caller.TimeoutError
			Expect(errors.As(err, &te)).To(BeTrue())
			Expect(results).To(HaveEach(HaveField("Attempts", 3)))
			Expect(calls(ctx, f)).To(HaveLen(6))
		}, SpecTimeout(20*time.Second))
	})

	Describe("the budget", func() {
		It("keeps total attempts within the budget when every server fails", func(ctx SpecContext) {
			const servers, attempts, tokens = 20, 5, 10
			f := startFleet(ctx, servers)
			Expect(f.SetFaults(ctx, faults.MustParse("error=down"))).To(Succeed())
			budget := caller.NewBudget(tokens, 0.1)
			c := newCaller(caller.WithRetry(attempts, time.Millisecond, 10*time.Millisecond), caller.WithBudget(budget))

			sent := 0
			for range 3 { // three fan-outs share the budget
				results, err := fanOut(ctx, c, f.Addrs())
				Expect(err).To(MatchError(rpc.ServerError("down")))
				for _, r := range results {
					sent += r.Attempts
				}
			}
			// At most ⌈tokens/2⌉ retries in all, against 3·20·4 without a budget.
			Expect(sent).To(BeNumerically("<=", 3*servers+tokens/2))
			Expect(calls(ctx, f)).To(HaveLen(sent), "Attempts counts exactly the calls the servers received")
			Expect(budget.Tokens()).To(BeNumerically("<=", tokens/2))
		}, SpecTimeout(20*time.Second))

		It("bounds hedges too, and is shared between callers", func(ctx SpecContext) {
			const tokens = 4
			f := startFleet(ctx, 10)
			Expect(f.SetFaults(ctx, faults.MustParse("delay=300ms,servers=0-3"))).To(Succeed())
			budget := caller.NewBudget(tokens, 0)
			c1 := newCaller(caller.WithHedge(20*time.Millisecond, 3), caller.WithBudget(budget))
			c2 := newCaller(caller.WithHedge(20*time.Millisecond, 3), caller.WithBudget(budget))

			var wg sync.WaitGroup
			for _, c := range []*caller.Caller{c1, c2} {
				wg.Go(func() {
					defer GinkgoRecover()
					_, err := fanOut(ctx, c, f.Addrs())
					Expect(err).NotTo(HaveOccurred())
				})
			}
			wg.Wait()
			// Without the budget: 20 calls and up to 24 hedges.
			Expect(len(calls(ctx, f))).To(BeNumerically("<=", 20+tokens/2))
		}, SpecTimeout(20*time.Second))
	})

	Describe("bounded concurrency", func() {
		// WithConcurrency counts the calls a fan-out waits for: a call it
		// abandons (a hedge loser, a timeout) frees its slot at once, while
		// net/rpc cannot stop its server. These fleets make every call
		// end on the server before the fan-out sends another, so the
		// journal shows the limit itself.
		DescribeTable("never has more than c calls in flight, as the journal shows",
			func(ctx SpecContext, limit int, plan string, opts ...caller.Option) {
				const servers = 20
				f := startFleet(ctx, servers)
				Expect(f.SetFaults(ctx, faults.MustParse(plan))).To(Succeed())
				c := newCaller(append(opts, caller.WithConcurrency(limit))...)

				results, err := fanOut(ctx, c, f.Addrs())
				Expect(err).NotTo(HaveOccurred())
				Expect(results).To(HaveEach(HaveField("Err", BeNil())))
				attempts := 0
				for _, r := range results {
					attempts += r.Attempts
				}
				var journal []fleet.Call
				Eventually(func(g Gomega) {
					journal = calls(ctx, f)
					g.Expect(journal).To(HaveLen(attempts))
					g.Expect(journal).To(HaveEach(HaveField("RepliedAt", Not(BeZero()))))
				}).WithTimeout(5 * time.Second).Should(Succeed())
				Expect(maxInFlight(journal)).To(BeNumerically("<=", limit))
			},
			Entry("c=1", SpecTimeout(20*time.Second), 1, "delay=uniform,min=1ms,max=10ms"),
			Entry("c=3", SpecTimeout(20*time.Second), 3, "delay=uniform,min=5ms,max=30ms"),
			Entry("c=3, with retries", SpecTimeout(20*time.Second), 3, "error=flaky,p=0.3;delay=uniform,min=5ms,max=30ms",
				caller.WithRetry(12, time.Millisecond, 5*time.Millisecond)),
			// The slow server is the last: its hedge takes the slot of a
			// worker that has no address left.
			Entry("c=3, with a hedge", SpecTimeout(20*time.Second), 3, "delay=1s,servers=19;delay=30ms", caller.WithHedge(300*time.Millisecond, 1)),
		)
	})

	Describe("the pool and concurrent use", func() {
		It("runs 50 concurrent fan-outs through one caller race-free, every strategy at once", func(ctx SpecContext) {
			f := startFleet(ctx, 10)
			Expect(f.SetFaults(ctx, faults.MustParse("error=flaky,p=0.2;delay=uniform,min=1ms,max=20ms"))).To(Succeed())
			c := newCaller(caller.WithConcurrency(4), caller.WithRetry(3, time.Millisecond, 5*time.Millisecond),
				caller.WithHedge(15*time.Millisecond, 1), caller.WithBudget(caller.NewBudget(100, 0.5)))
			plain := newCaller()
			addrs := f.Addrs()

			var wg sync.WaitGroup
			for k := range 50 {
				wg.Go(func() {
					defer GinkgoRecover()
					use := c
					if k%5 == 0 {
						use = plain
					}
					results, err := fanOut(ctx, use, addrs)
					Expect(results).To(HaveLen(10))
					for i, r := range results {
						Expect(r.Addr).To(Equal(addrs[i]))
						if r.Err == nil {
							Expect(r.Reply.Message).To(Equal(fleet.Greeting("Alice", slices.Index(addrs, r.From), r.From)))
						} else {
							Expect(r.Err).To(MatchError(rpc.ServerError("flaky")))
						}
					}
					if err != nil {
						Expect(err).To(MatchError(rpc.ServerError("flaky")))
					}
				})
			}
			wg.Wait()
		}, SpecTimeout(60*time.Second))

		It("recycles a connection full of abandoned calls without failing a healthy call on it", func(ctx SpecContext) {
			f := startFleet(ctx, 1)
			Expect(f.SetFaults(ctx, faults.MustParse("delay=500ms,first=1;hang,after=1"))).To(Succeed())
			c := newCaller(caller.WithMaxAbandoned(2))
			addrs := f.Addrs()

			healthy := make(chan error, 1)
			go func() {
				_, err := fanOut(ctx, c, addrs)
				healthy <- err
			}()
			Eventually(f.Calls).WithArguments(ctx).Should(HaveLen(1))
			for range 3 { // hanging calls abandoned on ctx: the connection is retired
				hctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
				_, err := fanOut(hctx, c, addrs)
				cancel()
				Expect(err).To(MatchError(context.DeadlineExceeded))
			}
			Eventually(healthy).WithTimeout(5 * time.Second).Should(Receive(BeNil()))
			// Once the healthy call ended, the retired connection closed.
			Eventually(f.OpenConns).WithArguments(ctx, 0).Should(BeNumerically("<=", 1))
		}, SpecTimeout(20*time.Second))

		It("redials after the server restarts, with retries on", func(ctx SpecContext) {
			f := startFleet(ctx, 3)
			c := newCaller(caller.WithRetry(3, 5*time.Millisecond, 20*time.Millisecond))
			_, err := fanOut(ctx, c, f.Addrs())
			Expect(err).NotTo(HaveOccurred())
			Expect(f.Kill(ctx, 1)).To(Succeed())
			Expect(f.Restart(ctx, 1)).To(Succeed())

			results, err := fanOut(ctx, c, f.Addrs())
			Expect(err).NotTo(HaveOccurred())
			Expect(results[1].Attempts).To(BeNumerically("<=", 2), "the broken connection is redialled")
		}, SpecTimeout(20*time.Second))

		It("ends a fan-out in flight, backoff included, when the caller is closed", func(ctx SpecContext) {
			f := startFleet(ctx, 2)
			Expect(f.SetFaults(ctx, faults.MustParse("error=boom,servers=0;hang"))).To(Succeed())
			c := newCaller(caller.WithRetry(5, time.Hour, time.Hour), caller.WithTimeout(time.Minute))

			type outcome struct {
				results []caller.Result[fleet.Reply]
				err     error
			}
			done := make(chan outcome, 1)
			go func() {
				results, err := fanOut(ctx, c, f.Addrs())
				done <- outcome{results, err}
			}()
			Eventually(func() (int, error) { calls, err := f.Calls(ctx); return len(calls), err }).Should(BeNumerically(">=", 2))
			// Server 0's error reply is journalled just before it is
			// written: give the caller a moment to read it and start its
			// backoff, or Close would find that call still in flight.
			Eventually(f.ServerCalls).WithArguments(ctx, 0).Should(ContainElement(HaveField("Outcome", fleet.Failed)))
			time.Sleep(300 * time.Millisecond)
			Expect(c.Close()).To(Succeed())
			var o outcome
			Eventually(done).WithTimeout(2 * time.Second).Should(Receive(&o))
			Expect(o.err).To(MatchError(rpc.ErrShutdown), "the hanging call fails with rpc.ErrShutdown")
			Expect(o.err).To(MatchError(caller.ErrClosed), "the backoff ends with ErrClosed")
			Expect(o.results[1].Err).To(MatchError(rpc.ErrShutdown))
		}, SpecTimeout(20*time.Second))
	})

	It("makes one typed call with caller.Call", func(ctx SpecContext) {
		f := startFleet(ctx, 2)
		Expect(f.SetServerFaults(ctx, 1, faults.MustParse("error=nope"))).To(Succeed())
		c := newCaller()
		addrs := f.Addrs()

		reply, err := caller.Call[fleet.Args, fleet.Reply](ctx, c, addrs[0], "Service.Method", fleet.Args{Name: "Bob"})
		Expect(err).NotTo(HaveOccurred())
		Expect(reply.Message).To(Equal(fleet.Greeting("Bob", 0, addrs[0])))

		_, err = caller.Call[fleet.Args, fleet.Reply](ctx, c, addrs[1], "Service.Method", fleet.Args{Name: "Bob"})
		var ce *caller.CallError
		Expect(errors.As(err, &ce)).To(BeTrue())
		Expect(ce.Addr).To(Equal(addrs[1]))
		Expect(err).To(MatchError(rpc.ServerError("nope")))
	}, SpecTimeout(10*time.Second))
})
