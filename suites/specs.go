package suites

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/rpc"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites/internal/spectree"
	"github.com/rpcfleet/rpcfleet/suites/matchers"
)

// Conformance registers the fan-out conformance specs, in a container
// labelled "conformance", for the implementation newImpl returns: a
// caller of the default service's Service.Method. It is
// ConformanceOf(ServiceMethod(), newImpl, opts...). Call it inside a
// Ginkgo suite's tree (at the top level as var _ = Conformance(…), or
// inside a Describe that adds labels such as "container"). Every spec
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
// behaviours the implementation claims, and its shape (wait-for-all by
// default; see Quorum, FirstSuccess, FailFast, DeadlineBounded, Bounded,
// Hedged, Retries, NotConcurrent): the shape's own specs run, and those
// above that hold for it; specs of behaviours it does not claim are left
// out (not skipped), and listed once in the run's output. Every spec has a SpecTimeout, and a FanOut that does
// not return in time fails its spec rather than hanging the suite.
func Conformance(newImpl func(timeout time.Duration) FanOuter, opts ...Option) bool {
	return ConformanceOf(ServiceMethod(), newImpl, opts...)
}

// ConformanceOf is Conformance for a fan-out of any call: every spec
// starts its fleet with call.Service, fans out call.Args of its own names
// and checks each successful outcome with call.Check against the index of
// the server at its address. The fault plans of the specs apply to every
// method, so they apply to call.Method too.
func ConformanceOf[A, R any](call Call[A, R], newImpl func(timeout time.Duration) FanOuterOf[A, R], opts ...Option) bool {
	h := newHarness(call, newImpl, opts)
	if h.cfg.virtual != nil {
		return spectree.Ginkgo(spectree.Describe("fan-out conformance",
			spectree.It("runs in virtual time", time.Second, func(_ context.Context, t spectree.T) {
				t.Fail("suites.InVirtualTime needs suites.Run or RunOf, under plain go test: " +
					"Ginkgo cannot host a testing/synctest bubble (onsi/ginkgo#1601)")
			})).Labelled("conformance"))
	}
	return spectree.Ginkgo(h.tree(), h.notes("ginkgo --race")...)
}

// Run runs the conformance specs of Conformance as subtests of t, for a
// plain `go test` with no Ginkgo of its own: Run(t, newImpl, opts...) is
// RunOf(t, ServiceMethod(), newImpl, opts...).
func Run(t *testing.T, newImpl func(timeout time.Duration) FanOuter, opts ...Option) {
	t.Helper()
	RunOf(t, ServiceMethod(), newImpl, opts...)
}

// RunOf runs the specs of ConformanceOf as subtests of t, named after
// their containers and texts (t/completion/returns_only_after…, to pick
// with go test -run), one at a time in the order of the suite, each with
// its timeout and the same checks and failure messages as under Ginkgo.
// The seed of the fleets' faults and of the specs' shuffles is logged
// first; set RPCFLEET_SEED to repeat a run's. Specs check that no
// goroutine is left behind, so t must not run beside parallel tests of its
// package (call no t.Parallel in it).
func RunOf[A, R any](t *testing.T, call Call[A, R], newImpl func(timeout time.Duration) FanOuterOf[A, R], opts ...Option) {
	t.Helper()
	seed, err := spectree.Seed(os.Getenv("RPCFLEET_SEED"))
	if err != nil {
		t.Fatalf("suites: RPCFLEET_SEED: %v", err)
	}
	h := newHarness(call, newImpl, opts)
	if h.cfg.virtual != nil && h.cfg.ownStart {
		t.Fatal("suites: InVirtualTime starts its fleets in memory itself: it cannot be used with WithFleet")
	}
	tree := h.tree()
	notes := append([]string{fmt.Sprintf("conformance: seed %d (RPCFLEET_SEED=%d repeats it)", seed, seed)}, h.notes("go test -race")...)
	var bubble spectree.Bubble
	if h.cfg.virtual != nil {
		bubble = synctest.Test
		notes = append(notes, "conformance: in virtual time (testing/synctest), on fleets in memory")
	}
	spectree.Run(t, tree, seed, bubble, notes...)
}

func newHarness[A, R any](call Call[A, R], newImpl func(timeout time.Duration) FanOuterOf[A, R], opts []Option) *harness[A, R] {
	cfg := defaults()
	for _, o := range opts {
		o(&cfg)
	}
	return &harness[A, R]{cfg: cfg, call: call, newImpl: newImpl}
}

// tree returns the specs, labelled "conformance": wait-for-all's, those
// of them that hold for the claimed shape, and the shape's own.
func (h *harness[A, R]) tree() spectree.Node {
	if len(h.cfg.bad) > 0 {
		return spectree.Describe("fan-out conformance",
			spectree.It("is given claims that make sense", time.Second, func(_ context.Context, t spectree.T) {
				t.Fail("suites: the claims given to the conformance suite are wrong: " + strings.Join(h.cfg.bad, "; "))
			})).Labelled("conformance")
	}
	// The shape's own specs first: in the defined order (the gallery's),
	// a caller is judged by what its shape promises before the rest.
	return spectree.Describe("fan-out conformance",
		h.shapes(),
		h.completion(),
		h.ordering(),
		h.concurrency(),
		h.errorHandling(),
		h.hygiene(),
		h.repeatability(),
	).Labelled("conformance")
}

// notes returns what a run reports once: the specs left out for want of
// a claim (known once the tree is built), and a build without -race,
// which command would have it.
func (h *harness[A, R]) notes(withRace string) []string {
	var notes []string
	if len(h.leftOut) > 0 {
		// Grouped by what would add them, in the order first met.
		var wants []string
		by := map[string][]string{}
		for _, l := range h.leftOut {
			if _, ok := by[l.want]; !ok {
				wants = append(wants, l.want)
			}
			by[l.want] = append(by[l.want], fmt.Sprintf("%q", l.text))
		}
		var groups []string
		for _, w := range wants {
			groups = append(groups, fmt.Sprintf("%d with %s: %s", len(by[w]), w, strings.Join(by[w], ", ")))
		}
		notes = append(notes, fmt.Sprintf("conformance (%s): %d specs left out, not claimed; %s",
			h.cfg.claims(), len(h.leftOut), strings.Join(groups, "; ")))
	}
	if !raceEnabled {
		notes = append(notes, "conformance: built without -race, so no spec can fail for a data race: run "+withRace)
	}
	return notes
}

func (h *harness[A, R]) completion() spectree.Node {
	return spectree.Describe("completion",
		h.when(h.allWaited()).spec("returns no outcomes and no error for no addresses", func(ctx context.Context, h *spec[A, R]) {
			run := h.fanOutUnder(ctx, ctx, nil, h.implOnly(), nil, h.within())
			h.Expect(run.Results).To(BeEmpty(), "a fan-out to no addresses returns no outcomes; it returned %d: %s", len(run.Results), outcomesText(run.Results))
			h.Expect(run.Err).NotTo(HaveOccurred(), "a fan-out to no addresses returns no error; it returned %s", errText(run.Err))
		}, 20*time.Second),

		h.when(h.allWaited()).spec("returns one outcome per address, that server's reply: 1 address", func(ctx context.Context, h *spec[A, R]) {
			h.oneEach(ctx, 1, h.within())
		}, 20*time.Second),

		h.when(h.allWaited(), h.unhedged()).spec("returns only after every server has replied", func(ctx context.Context, h *spec[A, R]) {
			e := h.setup(ctx, 20, fleet.WithFaults(faults.MustParse("delay=40ms,jitter=40ms")))
			run := h.fanOut(ctx, e, e.f.Addrs(), h.within())
			h.Expect(run.Run).To(matchers.ReturnAfterAllReplies())
			h.Expect(run.Run).To(matchers.AllSucceed())
			h.expectAggregate(run, nil)
			outcomes := h.inOrder(run)
			h.Expect(outcomes).To(HaveLen(20), "one outcome per address, 20 in all; %d came", len(outcomes))
			h.Expect(run.Run).To(matchers.HaveOneCallPerServer(20))
			for _, c := range run.Calls {
				h.Expect(c.Outcome).To(Equal(fleet.OK), "server %d's call ends with a normal reply (%v); it ended %v", c.Server, fleet.OK, c.Outcome)
			}
		}, 20*time.Second),

		h.when(h.failuresWaited(), h.noRetries()).spec("returns one outcome per address when an address is given twice, each call's own", func(ctx context.Context, h *spec[A, R]) {
			e := h.setup(ctx, 3)
			// Server 0's first call fails, its second succeeds: a caller that
			// keeps results by address reports both alike, or one only.
			err := e.f.SetServerFaults(ctx, 0, faults.MustParse("error=first-of-two,first=1"))
			h.Expect(err).To(Succeed(), "setting server 0's faults (error=first-of-two,first=1) succeeds; it failed: %v", err)
			a := e.f.Addrs()
			addrs := []string{a[0], a[1], a[0], a[2], a[1]}
			run := h.fanOut(ctx, e, addrs, h.within())
			outcomes := h.inOrder(run)
			h.Expect(run.Calls).To(HaveLen(len(addrs)), "every address is called once per time it is given, %d calls in all; the fleet received %d:\n%s",
				len(addrs), len(run.Calls), matchers.JournalTable(run.Calls, run.Servers))
			for i, o := range outcomes {
				if addrs[i] != a[0] {
					h.Expect(o.Err).NotTo(HaveOccurred(), "outcome %d, for %s, succeeds; it failed with %s", i, addrs[i], errText(o.Err))
				}
			}
			h.expectReplies(e.f, addrs, outcomes)
			h.expectAggregate(run, a[:1])
			failed := 0
			for _, i := range []int{0, 2} {
				if outcomes[i].Err != nil {
					failed++
					h.Expect(outcomes[i].Err).To(MatchError(ContainSubstring("first-of-two")), "outcome %d, a failed call to %s, fails with the injected error \"first-of-two\"; it was %s",
						i, a[0], errText(outcomes[i].Err))
				}
			}
			h.Expect(failed).To(Equal(1), "of the two calls to %s, exactly the first received fails: outcomes 0 and 2 are %v and %v",
				a[0], okOrErr(outcomes[0]), okOrErr(outcomes[2]))
			h.Expect(run.Run).To(matchers.ReturnAfterAllReplies())
		}, 20*time.Second),

		h.when(need{h.cfg.large > 0, "suites.WithLargeFanOut(n)"}, h.allWaited(), h.unhedged()).spec(fmt.Sprintf("returns one outcome per address, that server's reply: %d addresses", h.cfg.large), func(ctx context.Context, h *spec[A, R]) {
			h.oneEach(ctx, h.cfg.large, h.long()+h.cfg.slack)
		}, 90*time.Second).
			// Alone: a thousand ephemeral ports taken while other
			// processes kill servers would now and then include a port
			// just freed, and a call meant to be refused would land here.
			Alone(),
	)
}

// oneEach checks a fan-out to n servers: one outcome per address, each
// that server's reply, and a return after the last reply.
func (h *spec[A, R]) oneEach(ctx context.Context, n int, within time.Duration) {
	ginkgo.GinkgoHelper()
	e := h.setup(ctx, n)
	run := h.fanOut(ctx, e, e.f.Addrs(), within)
	outcomes := h.inOrder(run)
	h.Expect(run.Run).To(matchers.AllSucceed())
	h.expectAggregate(run, nil)
	h.expectReplies(e.f, run.Addrs, outcomes)
	h.Expect(run.Run).To(matchers.HaveOneCallPerServer(n), "each server received exactly one call")
	h.Expect(run.Run).To(matchers.ReturnAfterAllReplies())
}

func (h *harness[A, R]) ordering() spectree.Node {
	// held runs a fan-out to addrs of e's fleet, whose servers all hold
	// their replies, waits until every call is held, releases them
	// server by server in the given order and returns the run: the
	// replies go out in exactly that order, with no delay and no slack.
	held := func(ctx context.Context, h *spec[A, R], e *env[A, R], addrs []string, order ...int) observed[R] {
		err := e.f.SetFaults(ctx, faults.MustParse("hold"))
		h.Expect(err).To(Succeed(), "setting every server's faults (hold) succeeds; it failed: %v", err)
		done := make(chan observed[R], 1)
		go func() {
			defer h.Recover()
			done <- h.fanOut(ctx, e, addrs, h.long())
		}()
		var calls []fleet.Call // the journal as last read
		h.Eventually(func() ([]fleet.Call, error) {
			c, err := e.f.Calls(ctx)
			calls = c
			return c, err
		}).WithContext(ctx).WithTimeout(h.within()).Should(
			SatisfyAll(HaveLen(len(addrs)), HaveEach(HaveField("Outcome", fleet.Held))), func() string {
				return fmt.Sprintf("every one of the %d calls reaches its server, which holds its reply; the journal had %d calls:\n%s",
					len(addrs), len(calls), matchers.JournalTable(calls, e.f.Addrs()))
			})
		for _, i := range order {
			err = e.f.Release(ctx, i)
			h.Expect(err).To(Succeed(), "releasing server %d's held replies succeeds; it failed: %v", i, err)
		}
		var run observed[R]
		h.Eventually(done).WithContext(ctx).WithTimeout(h.long()).Should(Receive(&run),
			"the fan-out returns once every server has released its replies; it had not returned within %v of the last release", h.long())
		return run
	}
	return spectree.Describe("ordering",
		h.when(h.allWaited(), h.unhedged()).spec("matches every outcome to its address, whatever order the replies come in", func(ctx context.Context, h *spec[A, R]) {
			n := h.inFlight(8) // a bounded caller holds no more at once
			e := h.setup(ctx, n)
			addrs := e.f.Addrs()
			rng := rand.New(rand.NewPCG(uint64(h.Seed()), 0))
			rng.Shuffle(len(addrs), func(i, j int) { addrs[i], addrs[j] = addrs[j], addrs[i] })

			// Server 0 replies last, so replies arrive in reverse order.
			order := reversed(n)
			run := held(ctx, h, e, addrs, order...)
			outcomes := h.inOrder(run)
			h.Expect(run.Run).To(matchers.AllSucceed())
			h.Expect(run.Run).To(matchers.ReplyInOrder(order...))
			h.expectReplies(e.f, addrs, outcomes)
		}, 20*time.Second),

		h.when(h.allWaited(), h.unhedged()).spec("sees replies complete in the order the servers send them, and returns only after the last", func(ctx context.Context, h *spec[A, R]) {
			// Servers hold their replies and the spec releases them one by
			// one: exact, where delays needed steps far apart on a busy
			// machine.
			n := h.inFlight(5)
			order := []int{3, 1, 4, 0, 2}
			if n < 5 {
				order = reversed(n)
			}
			e := h.setup(ctx, n)
			run := held(ctx, h, e, e.f.Addrs(), order...)
			h.inOrder(run)
			h.Expect(run.Run).To(matchers.AllSucceed())
			h.Expect(run.Run).To(matchers.ReplyInOrder(order...))
			h.Expect(run.Run).To(matchers.ReturnAfterAllReplies())
		}, 20*time.Second),

		h.when(h.allWaited(), h.unhedged(), need{h.cfg.bound == 0 || h.cfg.bound >= 50, "no bound below 50 calls in flight (see the bounded specs)"}).spec("calls servers in parallel: 50 servers delayed 500ms finish in about 500ms, not 25s", func(ctx context.Context, h *spec[A, R]) {
			// Slower backends (WithSlack) get a longer delay: all 50
			// calls must reach their servers within it.
			const n = 50
			d := h.scale(500 * time.Millisecond)
			e := h.setup(ctx, n, fleet.WithFaults(faults.MustParse(fmt.Sprintf("delay=%v", d))))
			run := h.fanOut(ctx, e, e.f.Addrs(), d+h.late())
			h.Expect(run.Run).To(matchers.AllSucceed())
			h.Expect(run.Elapsed).To(BeNumerically(">=", d), "the fan-out returns no sooner than its servers' %v delay; it returned after %v", d, run.Elapsed)
			h.Expect(run.Run).To(matchers.CompleteWithin(d+h.late()), "serial calls would take %v", n*d)
			// The time bound leaves room for a loaded machine, so a caller
			// with a few calls in flight at a time could pass it; the
			// journal cannot be fooled: all 50 must be in before any reply.
			h.Expect(run.Run).To(matchers.ReceiveAllBeforeFirstReply(), "a caller with 5 calls in flight at a time would take %v", n/5*d)
		}, 40*time.Second), // 50 servers to start and stop: containers take a while
	)
}

func (h *harness[A, R]) errorHandling() spectree.Node {
	return spectree.Describe("error handling",
		h.when(h.failuresWaited()).spec("reports a refused dial, for that address only", func(ctx context.Context, h *spec[A, R]) {
			e := h.setup(ctx, 5)
			err := e.f.Kill(ctx, 2)
			h.Expect(err).To(Succeed(), "killing server 2 succeeds; it failed: %v", err)
			addrs := e.f.Addrs()
			run := h.fanOut(ctx, e, addrs, h.within())
			outcomes := h.inOrder(run)
			h.Expect(run.Run).To(matchers.FailExactlyOn(addrs[2]))
			h.Expect(outcomes[2].Err).To(MatchError(syscall.ECONNREFUSED), "the outcome of the killed server's address is a refused dial (syscall.ECONNREFUSED); it was %s", errText(outcomes[2].Err))
			h.expectAggregate(run, addrs[2:3], syscall.ECONNREFUSED)
		}, 20*time.Second),

		h.when(h.timesOutN(), h.failuresOrFast(), h.unhedged(), h.deadlineRoom(5)).spec("times out a dial that hangs (a blackholed server), and only that address", func(ctx context.Context, h *spec[A, R]) {
			timeout := h.short()
			e := h.setupWith(ctx, 5, timeout)
			err := e.f.SetServerFaults(ctx, 2, faults.MustParse("blackhole"))
			h.Expect(err).To(Succeed(), "setting server 2's faults (blackhole) succeeds; it failed: %v", err)
			addrs := e.f.Addrs()
			bound := h.timedOutBy(timeout, 1)
			run := h.fanOut(ctx, e, addrs, bound)
			h.Expect(run.Run).To(matchers.CompleteWithin(bound), "a dial without a timeout hangs for minutes")
			outcomes := h.inOrder(run)
			h.Expect(run.Run).To(matchers.FailExactlyOn(addrs[2]), "only the blackholed server fails: a lock held across a dial would hold up the others")
			h.Expect(outcomes[2].Err).To(h.beATimeout(), "the blackholed server's outcome says its dial timed out")
			h.expectReplies(e.f, addrs, outcomes)
			h.expectAggregate(run, addrs[2:3], h.beATimeout())
			e.Finish(ctx) // nothing left dialling
		}, 20*time.Second),

		h.when(h.cancelsN(), h.allWaited(), h.unhedged(), h.unbounded(6)).spec("returns promptly when ctx is cancelled while dials hang (blackholed servers)", func(ctx context.Context, h *spec[A, R]) {
			const after = 200 * time.Millisecond
			e := h.setup(ctx, 6)
			err := e.f.SetFaults(ctx, faults.MustParse("blackhole,servers=0-2"))
			h.Expect(err).To(Succeed(), "setting the fleet's faults (blackhole,servers=0-2) succeeds; it failed: %v", err)
			fctx, cancel := context.WithCancel(ctx)
			defer cancel()
			time.AfterFunc(after, cancel)
			addrs := e.f.Addrs()
			run := h.fanOutUnder(ctx, fctx, e.f, e.impl, addrs, after+h.late())
			h.Expect(run.Run).To(matchers.CompleteWithin(after + h.late()))
			outcomes := h.inOrder(run)
			h.Expect(run.Run).To(matchers.FailExactlyOn(addrs[:3]...))
			h.expectCancelled(outcomes, 0, 1, 2)
			h.expectReplies(e.f, addrs, outcomes)
			h.expectAggregate(run, addrs[:3], context.Canceled)
			e.Finish(ctx)
		}, 20*time.Second),

		h.when(h.failuresWaited()).spec("passes an error reply's text to the caller as an rpc.ServerError", func(ctx context.Context, h *spec[A, R]) {
			e := h.setup(ctx, 4)
			err := e.f.SetServerFaults(ctx, 1, faults.MustParse("error=boom"))
			h.Expect(err).To(Succeed(), "setting server 1's faults (error=boom) succeeds; it failed: %v", err)
			addrs := e.f.Addrs()
			run := h.fanOut(ctx, e, addrs, h.within())
			outcomes := h.inOrder(run)
			h.Expect(run.Run).To(matchers.FailExactlyOn(addrs[1]))
			var se rpc.ServerError
			h.Expect(errors.As(outcomes[1].Err, &se)).To(BeTrue(), "errors.As finds an rpc.ServerError in server 1's outcome; its error was %s", errText(outcomes[1].Err))
			h.Expect(string(se)).To(Equal("boom"), "the rpc.ServerError carries the server's error text, \"boom\"; it carried %q", string(se))
			h.expectAggregate(run, addrs[1:2], MatchError(ContainSubstring("boom")),
				WithTransform(func(err error) bool { return errors.As(err, new(rpc.ServerError)) }, BeTrue()))
			h.expectCallsEach(ctx, run, e.f, 4, 1, fleet.Failed)
		}, 20*time.Second),

		h.when(h.failuresWaited()).spec("reports a dropped connection (io.ErrUnexpectedEOF), for that address only", func(ctx context.Context, h *spec[A, R]) {
			e := h.setup(ctx, 4)
			err := e.f.SetServerFaults(ctx, 0, faults.MustParse("drop"))
			h.Expect(err).To(Succeed(), "setting server 0's faults (drop) succeeds; it failed: %v", err)
			addrs := e.f.Addrs()
			run := h.fanOut(ctx, e, addrs, h.within())
			outcomes := h.inOrder(run)
			h.Expect(run.Run).To(matchers.FailExactlyOn(addrs[0]))
			h.Expect(outcomes[0].Err).To(MatchError(io.ErrUnexpectedEOF), "a connection dropped before the reply reads as io.ErrUnexpectedEOF; it read as %s", errText(outcomes[0].Err))
			h.expectAggregate(run, addrs[:1], io.ErrUnexpectedEOF)
			h.expectCallsEach(ctx, run, e.f, 0, 0, fleet.Aborted)
		}, 20*time.Second),

		h.when(h.failuresWaited()).spec("reports a corrupt reply as an error, not a reply, and recovers once the server is sound", func(ctx context.Context, h *spec[A, R]) {
			e := h.setup(ctx, 4)
			err := e.f.SetServerFaults(ctx, 2, faults.MustParse("corrupt"))
			h.Expect(err).To(Succeed(), "setting server 2's faults (corrupt) succeeds; it failed: %v", err)
			addrs := e.f.Addrs()
			run := h.fanOut(ctx, e, addrs, h.within())
			outcomes := h.inOrder(run)
			h.Expect(run.Run).To(matchers.FailExactlyOn(addrs[2]))
			h.Expect(errors.As(outcomes[2].Err, new(rpc.ServerError))).To(BeFalse(), "server 2's corrupt reply fails as a broken reply, not as an error reply (an rpc.ServerError); its error was %s", errText(outcomes[2].Err))
			h.expectAggregate(run, addrs[2:3])

			err = e.f.SetServerFaults(ctx, 2, faults.Plan{})
			h.Expect(err).To(Succeed(), "clearing server 2's faults succeeds; it failed: %v", err)
			run = h.fanOut(ctx, e, addrs, h.within())
			h.expectReplies(e.f, addrs, h.inOrder(run))
			h.Expect(run.Run).To(matchers.AllSucceed())
		}, 20*time.Second),

		h.when(h.failuresWaited()).spec("reports a server that crashes mid-call, and reaches it again once it restarts", func(ctx context.Context, h *spec[A, R]) {
			e := h.setup(ctx, 4)
			err := e.f.SetServerFaults(ctx, 1, faults.MustParse("crash"))
			h.Expect(err).To(Succeed(), "setting server 1's faults (crash) succeeds; it failed: %v", err)
			addrs := e.f.Addrs()
			run := h.fanOut(ctx, e, addrs, h.within())
			h.inOrder(run)
			h.Expect(run.Run).To(matchers.FailExactlyOn(addrs[1]))
			h.expectAggregate(run, addrs[1:2])

			err = e.f.Restart(ctx, 1)
			h.Expect(err).To(Succeed(), "restarting server 1 succeeds; it failed: %v", err)
			err = e.f.SetServerFaults(ctx, 1, faults.Plan{})
			h.Expect(err).To(Succeed(), "clearing server 1's faults succeeds; it failed: %v", err)
			addrs = e.f.Addrs()
			run = h.fanOut(ctx, e, addrs, h.within())
			h.expectReplies(e.f, addrs, h.inOrder(run))
			h.Expect(run.Run).To(matchers.AllSucceed())
		}, 30*time.Second),

		h.when(h.failuresWaited()).spec("reaches a killed server again once it restarts", func(ctx context.Context, h *spec[A, R]) {
			e := h.setup(ctx, 3)
			run := h.fanOut(ctx, e, e.f.Addrs(), h.within())
			h.Expect(run.Run).To(matchers.AllSucceed())

			addr := e.f.Addrs()[1]
			err := e.f.Kill(ctx, 1)
			h.Expect(err).To(Succeed(), "killing server 1 succeeds; it failed: %v", err)
			run = h.fanOut(ctx, e, e.f.Addrs(), h.within())
			h.inOrder(run)
			h.Expect(run.Run).To(matchers.FailExactlyOn(addr))

			err = e.f.Restart(ctx, 1)
			h.Expect(err).To(Succeed(), "restarting server 1 succeeds; it failed: %v", err)
			addrs := e.f.Addrs()
			run = h.fanOut(ctx, e, addrs, h.within())
			outcomes := h.inOrder(run)
			h.Expect(run.Run).To(matchers.AllSucceed())
			h.expectReplies(e.f, addrs, outcomes)
			err = h.call.Check(name, 1, outcomes[1].Reply)
			h.Expect(err).To(Succeed(), "outcome 1 carries server 1's own reply, after its restart; the check failed: %v", err)
		}, 30*time.Second),

		h.when(h.timesOutN(), h.failuresOrFast(), h.unhedged(), h.deadlineRoom(6)).spec("times out a hanging server soon after the timeout, and only that address", func(ctx context.Context, h *spec[A, R]) {
			timeout := h.short()
			e := h.setupWith(ctx, 6, timeout)
			err := e.f.SetServerFaults(ctx, 3, faults.MustParse("hang"))
			h.Expect(err).To(Succeed(), "setting server 3's faults (hang) succeeds; it failed: %v", err)
			addrs := e.f.Addrs()
			bound := h.timedOutBy(timeout, 1)
			run := h.fanOut(ctx, e, addrs, bound)
			h.Expect(run.Elapsed).To(BeNumerically(">=", timeout), "the fan-out waits out the hanging server's %v timeout; it gave up on it after %v", timeout, run.Elapsed)
			h.Expect(run.Run).To(matchers.CompleteWithin(bound))
			outcomes := h.inOrder(run)
			h.Expect(run.Run).To(matchers.FailExactlyOn(addrs[3]))
			h.Expect(outcomes[3].Err).To(h.beATimeout(), "the hanging server's outcome says its call timed out")
			h.expectAggregate(run, addrs[3:4], h.beATimeout())
			h.expectCallsEach(ctx, run, e.f, 0, 3, fleet.Hung)
		}, 20*time.Second),

		h.when(h.cancelsN(), h.allWaited(), h.unhedged()).spec("returns promptly when ctx is cancelled mid-flight, every unfinished call failing with ctx's error", func(ctx context.Context, h *spec[A, R]) {
			const after = 100 * time.Millisecond
			e := h.setup(ctx, 10, fleet.WithFaults(faults.MustParse("hang")))
			fctx, cancel := context.WithCancel(ctx)
			defer cancel()
			time.AfterFunc(after, cancel)
			run := h.fanOutUnder(ctx, fctx, e.f, e.impl, e.f.Addrs(), after+h.late())
			h.Expect(run.Run).To(matchers.CompleteWithin(after + h.late()))
			outcomes := h.inOrder(run)
			h.expectCancelled(outcomes, servers(len(outcomes))...)
			h.expectAggregate(run, run.Addrs, context.Canceled)
			e.Finish(ctx) // nothing left waiting on the hanging servers
		}, 20*time.Second),

		h.when(h.cancelsN(), h.allWaited(), h.unhedged(), need{h.cfg.bound != 1, "a bound above one call in flight"}).spec("keeps the replies of calls answered before ctx was cancelled", func(ctx context.Context, h *spec[A, R]) {
			// A bounded caller may give its slots to the hanging servers
			// first: fewer of them than slots leave a slot for the others.
			const answered = 5
			n := answered + 5
			if c := h.cfg.bound; c > 0 && c <= 5 {
				n = answered + c - 1
			}
			e := h.setup(ctx, n)
			err := e.f.SetFaults(ctx, faults.MustParse(fmt.Sprintf("hang,servers=%d-%d", answered, n-1)))
			h.Expect(err).To(Succeed(), "setting the fleet's faults (hang,servers=%d-%d) succeeds; it failed: %v", answered, n-1, err)
			fctx, cancel := context.WithCancel(ctx)
			defer cancel()
			go func() {
				// Cancel once the quick servers' replies are written, and a
				// moment later, so that the caller has read them.
				defer h.Recover()
				replied := 0 // as last counted
				h.Eventually(func() int {
					calls, _ := e.f.Calls(ctx)
					replied = len(slices.DeleteFunc(calls, func(c fleet.Call) bool { return c.Outcome != fleet.OK }))
					return replied
				}).WithContext(fctx).WithTimeout(h.within()).Should(Equal(answered), func() string {
					return fmt.Sprintf("the %d servers without a fault reply before the cancel; %d had replied", answered, replied)
				})
				time.Sleep(h.scale(time.Second))
				cancel()
			}()
			addrs := e.f.Addrs()
			run := h.fanOutUnder(ctx, fctx, e.f, e.impl, addrs, h.within()+h.late())
			outcomes := h.inOrder(run)
			h.Expect(fctx.Err()).To(HaveOccurred(), "the fan-out, with servers %d-%d hanging, returns only once ctx is cancelled; it returned before, after %v", answered, n-1, run.Elapsed)
			h.Expect(run.Run).To(matchers.FailExactlyOn(addrs[answered:]...), "calls answered before the cancel keep their replies")
			h.expectCancelled(outcomes, servers(n)[answered:]...)
			h.expectReplies(e.f, addrs, outcomes)
			h.expectAggregate(run, addrs[answered:], context.Canceled)
			e.Finish(ctx)
		}, 20*time.Second),

		h.when(h.failuresWaited()).spec("names exactly the failing addresses in a partial failure", func(ctx context.Context, h *spec[A, R]) {
			e := h.setup(ctx, 10)
			for _, i := range []int{1, 4, 7} {
				err := e.f.SetServerFaults(ctx, i, faults.MustParse("error=partial"))
				h.Expect(err).To(Succeed(), "setting server %d's faults (error=partial) succeeds; it failed: %v", i, err)
			}
			err := e.f.Kill(ctx, 8)
			h.Expect(err).To(Succeed(), "killing server 8 succeeds; it failed: %v", err)
			addrs := e.f.Addrs()
			failed := []string{addrs[1], addrs[4], addrs[7], addrs[8]}
			run := h.fanOut(ctx, e, addrs, h.within())
			outcomes := h.inOrder(run)
			h.Expect(run.Run).To(matchers.FailExactlyOn(failed...))
			h.Expect(outcomes[8].Err).To(MatchError(syscall.ECONNREFUSED), "the killed server's outcome is a refused dial (syscall.ECONNREFUSED); it was %s", errText(outcomes[8].Err))
			ok := 0
			for _, o := range outcomes {
				if o.Err == nil {
					ok++
				}
			}
			h.Expect(ok).To(Equal(6), "six of the ten calls succeed; %d did", ok)
			h.expectAggregate(run, failed, syscall.ECONNREFUSED,
				WithTransform(func(err error) bool { return errors.As(err, new(rpc.ServerError)) }, BeTrue()))
		}, 20*time.Second),
	)
}

func (h *harness[A, R]) hygiene() spectree.Node {
	return spectree.Describe("hygiene",
		h.when(h.timesOutN(), h.failuresOrFast(), h.unhedged(), h.deadlineRoom(5)).spec("leaves no goroutine behind after fan-outs to hanging and slow servers", func(ctx context.Context, h *spec[A, R]) {
			e := h.setupWith(ctx, 5, h.short())
			err := e.f.SetServerFaults(ctx, 0, faults.MustParse("hang"))
			h.Expect(err).To(Succeed(), "setting server 0's faults (hang) succeeds; it failed: %v", err)
			err = e.f.SetServerFaults(ctx, 1, faults.MustParse("delay=10s"))
			h.Expect(err).To(Succeed(), "setting server 1's faults (delay=10s) succeeds; it failed: %v", err)
			addrs := e.f.Addrs()
			for range 3 {
				run := h.fanOut(ctx, e, addrs, h.timedOutBy(h.short(), 2))
				h.inOrder(run)
				h.Expect(run.Run).To(matchers.FailExactlyOn(addrs[0], addrs[1]))
			}
			e.Finish(ctx) // goroutines and connections, while the servers still hang
		}, 30*time.Second),

		h.when(need{!h.cfg.noConns, "a backend that counts connections, without suites.WithoutConnCount()"}, h.failuresWaited()).spec("closes every connection it opens: the fleet's open connections return to their baseline", func(ctx context.Context, h *spec[A, R]) {
			e := h.setup(ctx, 5)
			before := openConns(ctx, e.f)
			h.Expect(before).To(BeNumerically(">=", 0), "the fleet's backend counts its open connections; it cannot (it reported %d): use suites.WithoutConnCount()", before)
			err := e.f.SetServerFaults(ctx, 4, faults.MustParse("error=x"))
			h.Expect(err).To(Succeed(), "setting server 4's faults (error=x) succeeds; it failed: %v", err)
			for range 3 {
				run := h.fanOut(ctx, e, e.f.Addrs(), h.within())
				h.Expect(run.Run).To(matchers.FailExactlyOn(e.f.Addrs()[4]))
			}
			e.Finish(ctx)
			open := openConns(ctx, e.f)
			h.Expect(open).To(Equal(before), "once the implementation is closed, the fleet's open connections are back to the %d of before it ran; %d are open", before, open)
		}, 20*time.Second),
	)
}

func (h *harness[A, R]) concurrency() spectree.Node {
	return spectree.Describe("concurrent fan-outs",
		h.when(h.concurrent(), h.allWaited(), h.unhedged(), need{h.cfg.bound == 0 || h.cfg.bound >= 3, "a bound of at least 3 calls in flight"}).spec("finishes each of two concurrent fan-outs on its own schedule: a quick one beside a slow one", func(ctx context.Context, h *spec[A, R]) {
			// The seed article's own bug: one WaitGroup shared by every
			// fan-out makes the quick one wait for the slow one (or lets
			// one return before its own calls end).
			const n = 6
			slow := h.scale(2 * time.Second)
			e := h.setup(ctx, n)
			err := e.f.SetFaults(ctx, faults.MustParse(fmt.Sprintf("delay=%v,servers=0-2", slow)))
			h.Expect(err).To(Succeed(), "setting the fleet's faults (delay=%v,servers=0-2) succeeds; it failed: %v", slow, err)
			addrs := e.f.Addrs()
			slowRun := make(chan observed[R], 1)
			go func() {
				defer h.Recover()
				slowRun <- h.run(ctx, ctx, e.f, e.impl, slices.Clone(addrs[:3]), "slow", slow+h.within())
			}()
			var calls []fleet.Call // the journal as last read
			h.Eventually(func() ([]fleet.Call, error) {
				c, err := e.f.Calls(ctx)
				calls = c
				return c, err
			}).WithContext(ctx).WithTimeout(h.within()).Should(
				HaveLen(3), func() string {
					return fmt.Sprintf("the slow fan-out's three calls reach their servers; the journal had %d calls:\n%s", len(calls), matchers.JournalTable(calls, e.f.Addrs()))
				})

			quick := h.run(ctx, ctx, e.f, e.impl, slices.Clone(addrs[3:]), "quick", h.within())
			// Its own calls only: the slow fan-out's were received before
			// it started, at the same instant in virtual time.
			quick.Calls = slices.DeleteFunc(quick.Calls, func(c fleet.Call) bool { return c.Server < 3 })
			h.Expect(quick.Run).To(matchers.AllSucceed())
			h.expectRepliesTo(e.f, "quick", quick.Addrs, h.inOrder(quick))
			h.Expect(quick.Run).To(matchers.ReturnAfterAllReplies())
			s := <-slowRun
			for _, c := range s.Calls {
				if c.Server < 3 {
					h.Expect(quick.Returned).To(BeTemporally("<", c.Replied),
						"the quick fan-out returns before server %d's slow reply; it returned %v after it: it waits for the other fan-out's calls",
						c.Server, quick.Returned.Sub(c.Replied))
				}
			}
			h.Expect(s.Run).To(matchers.AllSucceed())
			h.expectRepliesTo(e.f, "slow", s.Addrs, h.inOrder(s))
			h.Expect(s.Run).To(matchers.ReturnAfterAllReplies())
			h.Expect(s.Elapsed).To(BeNumerically(">=", slow), "the slow fan-out returns no sooner than its calls' %v delay; it returned after %v, before its own calls ended", slow, s.Elapsed)
		}, 30*time.Second),

		h.when(h.concurrent(), h.allWaited(), h.unhedged()).spec("leaves the address slice it is given unchanged, when concurrent fan-outs share it", func(ctx context.Context, h *spec[A, R]) {
			const n, fanOuts = 8, 4
			e := h.setup(ctx, n, fleet.WithFaults(faults.MustParse("delay=20ms,jitter=20ms")))
			shared := e.f.Addrs()
			rng := rand.New(rand.NewPCG(uint64(h.Seed()), 1))
			rng.Shuffle(len(shared), func(i, j int) { shared[i], shared[j] = shared[j], shared[i] })
			want := slices.Clone(shared)
			var wg sync.WaitGroup
			for k := range fanOuts {
				wg.Go(func() {
					defer h.Recover()
					who := fmt.Sprintf("fan-out %d", k)
					run := h.run(ctx, ctx, e.f, e.impl, shared, who, h.within())
					h.Expect(run.Run).To(matchers.AllSucceed())
					h.expectRepliesTo(e.f, who, want, h.inOrder(run))
				})
			}
			wg.Wait()
			h.Expect(shared).To(Equal(want), "the address slice is unchanged after %d fan-outs shared it; it was %q, and became %q: the caller writes into its input", fanOuts, want, shared)
		}, 20*time.Second),

		h.when(h.concurrent(), h.failuresWaited(), h.unhedged()).spec("is race-free when many fan-outs share one implementation, each getting its own replies and errors", func(ctx context.Context, h *spec[A, R]) {
			const n, fanOuts = 10, 20
			e := h.setup(ctx, n, fleet.WithFaults(faults.MustParse("delay=5ms,jitter=5ms;error=flaky,p=0.2")))
			addrs := e.f.Addrs()
			var (
				wg     sync.WaitGroup
				mu     sync.Mutex
				failed int
			)
			for k := range fanOuts {
				wg.Go(func() {
					defer h.Recover()
					who := fmt.Sprintf("fan-out %d", k)
					run := h.run(ctx, ctx, e.f, e.impl, slices.Clone(addrs), who, h.within())
					outcomes := h.inOrder(run)
					h.expectRepliesTo(e.f, who, addrs, outcomes)
					for i, o := range outcomes {
						if o.Err != nil {
							h.Expect(o.Err).To(MatchError(ContainSubstring("flaky")), "%s, outcome %d, fails only with the injected error \"flaky\"; it was %s", who, i, errText(o.Err))
							mu.Lock()
							failed++
							mu.Unlock()
						}
					}
				})
			}
			wg.Wait()
			calls, err := e.f.Calls(ctx)
			h.Expect(err).NotTo(HaveOccurred(), "reading the fleet's journal succeeds; it failed: %v", err)
			errReplies := 0
			for _, c := range calls {
				if c.Outcome == fleet.Failed {
					errReplies++
				}
			}
			h.Expect(errReplies).To(BeNumerically(">", 0), "the plan gives some of the %d calls an error reply; %d had one", len(calls), errReplies)
			if h.cfg.attempts > 0 {
				// A retried call fails only if every attempt did.
				h.Expect(len(calls)).To(BeNumerically(">=", n*fanOuts), "every fan-out calls every server at least once, %d calls in all; the fleet received %d", n*fanOuts, len(calls))
				h.Expect(failed).To(BeNumerically("<=", errReplies),
					"no more outcomes fail than error replies were sent, %d; %d failed: a call failed that its server answered (a shared connection closed on another call's error?)", errReplies, failed)
				return
			}
			h.Expect(calls).To(HaveLen(n*fanOuts), "every fan-out calls every server once, %d calls in all; the fleet received %d", n*fanOuts, len(calls))
			h.Expect(failed).To(Equal(errReplies),
				"as many outcomes fail as error replies were sent, %d; %d failed (more: a call failed that its server answered, a shared connection closed on another call's error?; fewer: an error reply was reported as a success)", errReplies, failed)
		}, 30*time.Second),
	)
}

func (h *harness[A, R]) repeatability() spectree.Node {
	return spectree.Describe("repeatability",
		h.when(h.failuresWaited(), h.unhedged()).spec("gives the same outcomes for the same seed, and others for another", func(ctx context.Context, h *spec[A, R]) {
			const n, rounds = 10, 3
			plan := faults.MustParse("error=e,p=0.3;delay=1ms,jitter=1ms,p=0.3")
			if h.cfg.attempts > 0 {
				// A retried call fails only if every attempt does: errors
				// often enough that it still fails 30% of the time, and
				// outcomes differ between seeds.
				plan = faults.MustParse(fmt.Sprintf("error=e,p=%.3f;delay=1ms,jitter=1ms,p=0.3", math.Pow(0.3, 1/float64(h.cfg.attempts))))
			}
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
			seed := uint64(h.Seed())
			first := outcomes(seed)
			h.Expect(first).To(HaveLen(n*rounds), "one outcome per server and round, %d in all; %d came", n*rounds, len(first))
			again := outcomes(seed)
			h.Expect(again).To(Equal(first), "a second fleet of the same seed gives every call the same outcome; these differ:\n%s", differing(first, again))
			other := outcomes(seed + 1)
			h.Expect(other).NotTo(Equal(first), "a fleet of another seed gives other outcomes; all %d were the same", len(other))
		}, 30*time.Second),
	)
}

// differing lists, for the description of an assertion that two lists of
// outcomes are equal, the lines where they differ: "round 0, server 3: ok,
// then failed" (first's, then again's).
func differing(first, again []string) string {
	var out []string
	for i := range max(len(first), len(again)) {
		f, a := "(none)", "(none)"
		if i < len(first) {
			f = first[i]
		}
		if i < len(again) {
			a = again[i]
		}
		if f == a {
			continue
		}
		if k := strings.LastIndex(f, ": "); k >= 0 && strings.HasPrefix(a, f[:k+2]) {
			a = a[k+2:]
		}
		out = append(out, fmt.Sprintf("  %s, then %s", f, a))
	}
	return strings.Join(out, "\n")
}

// okOrErr is "ok" or "failed": error texts may name addresses, which
// differ between fleets.
func okOrErr[R any](o ResultOf[R]) string {
	if o.Err == nil {
		return "ok"
	}
	return "failed"
}
