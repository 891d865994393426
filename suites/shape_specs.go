package suites

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/rpc"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites/internal/spectree"
	"github.com/rpcfleet/rpcfleet/suites/matchers"
)

// need is one condition of a spec: whether it holds, and what would make
// it hold, for the note that lists the specs left out.
type need struct {
	ok   bool
	what string
}

// gate registers a spec only when every need of it holds.
type gate[A, R any] struct {
	h    *harness[A, R]
	ok   bool
	want string
}

// when returns the gate of needs.
func (h *harness[A, R]) when(needs ...need) gate[A, R] {
	var want []string
	for _, n := range needs {
		if !n.ok {
			want = append(want, n.what)
		}
	}
	return gate[A, R]{h, len(want) == 0, strings.Join(want, " and ")}
}

// spec is harness.spec if the gate is open; otherwise the spec is left
// out and noted (see harness.it).
func (g gate[A, R]) spec(text string, body func(ctx context.Context, h *spec[A, R]), timeout time.Duration) spectree.Node {
	ginkgo.GinkgoHelper()
	return g.h.it(g.ok, g.want, text, body, timeout)
}

func (h *harness[A, R]) timesOutN() need { return need{h.cfg.timesOut, "suites.TimesOut()"} }
func (h *harness[A, R]) cancelsN() need  { return need{h.cfg.cancels, "suites.HonoursCancel()"} }
func (h *harness[A, R]) concurrent() need {
	return need{!h.cfg.notConcurrent, "concurrent use (without suites.NotConcurrent())"}
}
func (h *harness[A, R]) unhedged() need {
	return need{h.cfg.hedgeMax == 0, "no hedging (a backup changes which server answers a call and how many calls each receives)"}
}
func (h *harness[A, R]) noRetries() need {
	return need{h.cfg.attempts == 0, "no retries (a retried call's first failure is not its outcome)"}
}

// allWaited: the shape waits for every call when none fails.
func (h *harness[A, R]) allWaited() need {
	return need{!h.cfg.shape.returnsEarly(), "a shape that waits for every call when none fails (not " + h.cfg.shapeClaim + ")"}
}

// failuresWaited: the shape waits for every call, failed ones too.
func (h *harness[A, R]) failuresWaited() need {
	s := h.cfg.shape
	if h.cfg.hedgeMax > 0 {
		// A failed or slow call may be hedged, and a backup changes who
		// answers it and how many calls each server receives.
		return need{false, "a shape that waits for failed calls too, unhedged"}
	}
	return need{s == waitAll || s == deadlineBounded, "a shape that waits for failed calls too: wait-for-all or suites.DeadlineBounded(), not " + h.cfg.shapeClaim}
}

// deadlineRoom: under DeadlineBounded with a bound, the bound lets every
// call of a fan-out to n start before the deadline.
func (h *harness[A, R]) deadlineRoom(n int) need {
	return need{h.cfg.shape != deadlineBounded || h.cfg.bound == 0 || h.cfg.bound >= n,
		fmt.Sprintf("a bound of at least %d calls in flight under suites.DeadlineBounded() (queued calls would meet the fan-out's deadline)", n)}
}

// failuresOrFast: failuresWaited, or fail fast, for specs whose only
// failures come last (a timeout when every other call has ended).
func (h *harness[A, R]) failuresOrFast() need {
	n := h.failuresWaited()
	n.ok = n.ok || h.cfg.shape == failFast
	return n
}

// inFlight is n, or the claimed bound if lower: the most calls a spec can
// expect at its servers at once.
func (h *harness[A, R]) inFlight(n int) int {
	if h.cfg.bound > 0 {
		return min(n, h.cfg.bound)
	}
	return n
}

// timedOutBy is how long a fan-out whose slow calls (as many as slow)
// time out after timeout may take: the timeout, once per attempt for a
// caller that retries and once per wave of slow calls for a bounded one,
// and lateness.
func (h *harness[A, R]) timedOutBy(timeout time.Duration, slow int) time.Duration {
	waves := 1
	if c := h.cfg.bound; c > 0 && h.cfg.shape != deadlineBounded {
		waves = (slow + c - 1) / c
	}
	return time.Duration(waves*max(1, h.cfg.attempts))*timeout + h.late()
}

// expectCancelled checks the outcomes at positions in of a fan-out whose
// ctx was cancelled while those calls were unfinished: each fails with
// ctx's error. A fail-fast fan-out returns at the first of those
// failures and lets the others go: one has ctx's error, the others any.
func (h *spec[A, R]) expectCancelled(outcomes []ResultOf[R], in ...int) {
	ginkgo.GinkgoHelper()
	cancelled := 0
	for _, i := range in {
		o := outcomes[i]
		h.Expect(o.Err).To(HaveOccurred(), "outcome %d, unfinished when ctx was cancelled, fails; it succeeded", i)
		if errors.Is(o.Err, context.Canceled) {
			cancelled++
		} else if h.cfg.shape != failFast {
			h.Expect(o.Err).To(MatchError(context.Canceled), "outcome %d, unfinished when ctx was cancelled, fails with ctx's error, context.Canceled; it was %s", i, errText(o.Err))
		}
	}
	if h.cfg.shape == failFast && len(in) > 0 {
		h.Expect(cancelled).To(BeNumerically(">=", 1), "a fail-fast fan-out cancelled by ctx returns at the first call failing with ctx's error, context.Canceled; none did")
	}
}

// reversed is n-1, …, 1, 0.
func reversed(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = n - 1 - i
	}
	return out
}

// expectCallsEach checks the journal of a spec whose server received a
// fault ending in outcome: with n > 0, one call per server of n; server's
// calls all ended so. A caller that retries (Retries) may call a server
// up to its attempts.
func (h *spec[A, R]) expectCallsEach(ctx context.Context, run observed[R], f *fleet.Fleet, n, server int, outcome fleet.Outcome) {
	ginkgo.GinkgoHelper()
	calls, err := f.ServerCalls(ctx, server)
	h.Expect(err).NotTo(HaveOccurred(), "reading server %d's journal", server)
	if h.cfg.attempts == 0 {
		if n > 0 {
			h.Expect(run.Run).To(matchers.HaveOneCallPerServer(n))
		}
		h.Expect(calls).To(ConsistOf(HaveField("Outcome", outcome)), "server %d received one call, which ended %v:\n%s", server, outcome, matchers.JournalTable(calls, f.Addrs()))
		return
	}
	h.Expect(calls).To(SatisfyAll(Not(BeEmpty()), HaveEach(HaveField("Outcome", outcome))), "server %d's calls all ended %v:\n%s", server, outcome, matchers.JournalTable(calls, f.Addrs()))
	h.Expect(len(calls)).To(BeNumerically("<=", h.cfg.attempts), "server %d received at most the %d attempts claimed:\n%s", server, h.cfg.attempts, matchers.JournalTable(calls, f.Addrs()))
}

// shapes returns the specs of the claimed shape and of the claims beside
// it: quorum (first success), fail fast, deadline-bounded, hedged,
// bounded, retries, and fan-outs one at a time.
func (h *harness[A, R]) shapes() spectree.Node {
	s := h.cfg.shape
	early := s.returnsEarly()
	return spectree.Describe("shape",
		h.when(h.quorumIn(4, 1, 4), h.quorumIn(5, 1, 5), h.unbounded(5)).spec("returns after the k-th success, before the next reply, and lets the other calls go", body((*spec[A, R]).quorumReached), 20*time.Second),
		h.when(h.quorumIn(4, 1, 4), h.quorumIn(5, 1, 5), h.unbounded(5)).spec("fails as soon as the quorum is out of reach, not at a deadline", body((*spec[A, R]).quorumLost), 20*time.Second),
		h.when(h.quorumIn(4, 1, 3), h.unbounded(4)).spec("returns at a success that comes after a failure: the first result is not the first success", body((*spec[A, R]).successAfterFailure), 20*time.Second),
		h.when(need{early, "suites.Quorum or suites.FirstSuccess"}, h.unhedged(), h.unbounded(5)).spec("tolerates as many hanging and blackholed servers as the quorum spares", body((*spec[A, R]).quorumTolerates), 20*time.Second),
		h.when(need{early, "suites.Quorum or suites.FirstSuccess"}).spec("is right for fan-outs to 0, 1, 2, 3, 4 and 5 servers", body((*spec[A, R]).quorumSizes), 30*time.Second),
		h.when(h.quorumIn(3, 1, 3), need{h.cfg.aggregates || s == firstSuccess, "suites.AggregatesErrors() (or suites.FirstSuccess())"}, h.unhedged()).spec("wraps the cause of every failure that put the quorum out of reach", body((*spec[A, R]).quorumCauses), 20*time.Second),
		h.when(h.quorumIn(3, 1, 3), h.timesOutN(), h.unhedged(), h.unbounded(3)).spec("times out the hanging servers a quorum needs", body((*spec[A, R]).quorumTimesOut), 20*time.Second),
		h.when(h.quorumIn(4, 1, 4), h.cancelsN()).spec("returns promptly when ctx is cancelled before a quorum, every pending call failing with ctx's error", body((*spec[A, R]).quorumCancelled), 20*time.Second),

		h.when(need{s == failFast, "suites.FailFast()"}, h.unbounded(5)).spec("fails fast: returns at the first failure, before slower calls end, with that failure's cause", body((*spec[A, R]).failsFast), 20*time.Second),
		h.when(need{s == failFast, "suites.FailFast()"}, h.unbounded(4)).spec("fails fast on a refused dial too, with its cause", body((*spec[A, R]).failsFastRefused), 20*time.Second),

		h.when(need{s == deadlineBounded, "suites.DeadlineBounded()"}, h.unhedged(), h.unbounded(5)).spec("returns at its deadline with every reply that came before it, the missing servers timed out", body((*spec[A, R]).deadlineReached), 20*time.Second),
		h.when(need{s == deadlineBounded, "suites.DeadlineBounded()"}).spec("returns before its deadline once every call has ended, failures included", body((*spec[A, R]).deadlineNotNeeded), 20*time.Second),
		h.when(need{s == deadlineBounded, "suites.DeadlineBounded()"}, h.unhedged(), h.unbounded(3)).spec("runs its deadline from the fan-out's start, not from the last reply", body((*spec[A, R]).deadlineFromStart), 30*time.Second),
		h.when(need{s == deadlineBounded, "suites.DeadlineBounded()"}, h.unhedged()).spec("lets the call to a hung server go at every deadline: nothing piles up over rounds", body((*spec[A, R]).deadlineRounds), 30*time.Second),

		h.when(need{h.cfg.hedgeMax > 0, "suites.Hedged(delay, max)"}, h.allWaited(), h.unbounded(4)).spec("hedges a slow call after the delay, never before, to another server, and the first reply wins", body((*spec[A, R]).hedgesStraggler), 20*time.Second),
		h.when(need{h.cfg.hedgeMax > 0, "suites.Hedged(delay, max)"}, h.allWaited(), h.unbounded(4)).spec("sends at most max backups per call", body((*spec[A, R]).hedgesBounded), 30*time.Second),

		h.when(need{h.cfg.bound > 0, "suites.Bounded(c)"}, need{h.cfg.bound <= 100, "a bound of at most 100 (larger bounds are checked by the parallel spec)"}, h.allWaited(), h.unhedged()).spec("never has more calls in flight than its bound, and starts the next as one ends", body((*spec[A, R]).boundHeld), 30*time.Second),
		h.when(need{h.cfg.bound > 0, "suites.Bounded(c)"}, need{h.cfg.bound <= 25, "a bound of at most 25 (larger bounds are checked by the parallel spec)"}, h.allWaited(), h.unhedged()).spec("finishes n servers delayed d in about ⌈n/c⌉·d", body((*spec[A, R]).boundPaced), 40*time.Second),
		h.when(need{h.cfg.bound > 0, "suites.Bounded(c)"}, h.cancelsN(), h.allWaited()).spec("returns promptly when ctx is cancelled while calls wait for a slot", body((*spec[A, R]).boundCancelled), 20*time.Second),
		h.when(need{h.cfg.bound > 0, "suites.Bounded(c)"}, need{h.cfg.bound <= 25, "a bound of at most 25"}, h.timesOutN(), need{s != deadlineBounded, "a per-call timeout, not suites.DeadlineBounded()"}, h.allWaited(), h.unhedged()).spec("times each call from its slot, not from the fan-out's start", body((*spec[A, R]).boundTimedFromSlot), 30*time.Second),

		h.when(need{h.cfg.attempts > 0, "suites.Retries(attempts)"}, h.allWaited(), h.unhedged()).spec("retries a failing call until it succeeds", body((*spec[A, R]).retriesUntilSuccess), 20*time.Second),
		h.when(need{h.cfg.attempts > 0, "suites.Retries(attempts)"}, h.unhedged(), h.unbounded(3)).spec("retries a server that always fails at most attempts times", body((*spec[A, R]).retriesBounded), 20*time.Second),

		h.when(need{h.cfg.notConcurrent, "suites.NotConcurrent()"}).spec("serves fan-outs one after another, each getting its own replies", body((*spec[A, R]).oneAtATime), 20*time.Second),
		h.when(need{early || s == failFast || h.cfg.hedgeMax > 0, "a shape whose concurrent fan-outs the wait-for-all specs cannot judge"}, h.concurrent()).spec("gives each of 10 concurrent fan-outs its own replies, race-free", body((*spec[A, R]).concurrentShaped), 30*time.Second),
	)
}

// body adapts a spec method to a spec's body.
func body[A, R any](m func(*spec[A, R], context.Context)) func(context.Context, *spec[A, R]) {
	return func(ctx context.Context, s *spec[A, R]) { m(s, ctx) }
}

// unbounded: the bound, if any, leaves n calls in flight at once.
func (h *harness[A, R]) unbounded(n int) need {
	return need{h.cfg.bound == 0 || h.cfg.bound >= n, fmt.Sprintf("a bound of at least %d calls in flight", n)}
}

// quorumIn: the claimed quorum of a fan-out to n is within lo..hi.
func (h *harness[A, R]) quorumIn(n, lo, hi int) need {
	k := 0
	if h.cfg.quorum != nil {
		k = h.cfg.quorum(n)
	}
	return need{h.cfg.quorum != nil && k >= lo && k <= hi, fmt.Sprintf("a quorum of %d to %d of %d", lo, hi, n)}
}

// quorumOf returns the successes a quorum fan-out to n addresses needs, as
// claimed.
func (h *harness[A, R]) quorumOf(n int) int { return h.cfg.quorum(n) }

// fanning is a fan-out running in a goroutine: done gets what the spec
// observed of it, and returned says it has returned.
type fanning[R any] struct {
	done     chan observed[R]
	returned atomic.Bool
}

// async runs a fan-out of e's implementation to addrs in a goroutine. d
// bounds the fan-out (see run).
func (h *spec[A, R]) async(ctx context.Context, e *env[A, R], addrs []string, d time.Duration) *fanning[R] {
	fo := &fanning[R]{done: make(chan observed[R], 1)}
	go func() {
		defer h.Recover()
		defer fo.returned.Store(true)
		fo.done <- h.fanOut(ctx, e, addrs, d)
	}()
	return fo
}

// await waits up to d for the fan-out of fo to return; why says what a
// fan-out that does not return is waiting for.
func (h *spec[A, R]) await(ctx context.Context, fo *fanning[R], d time.Duration, why string, args ...any) observed[R] {
	ginkgo.GinkgoHelper()
	var run observed[R]
	h.Eventually(fo.done).WithContext(ctx).WithTimeout(d).Should(Receive(&run), append([]any{why}, args...)...)
	return run
}

// holding waits until each of servers holds at least one call of the
// fan-out fo, which must not return before.
func (h *spec[A, R]) holding(ctx context.Context, f *fleet.Fleet, fo *fanning[R], servers ...int) {
	ginkgo.GinkgoHelper()
	h.waitFor(ctx, f, fo, fleet.Held, "hold it", servers)
}

// ended waits until each of servers has a call of the fan-out fo that
// ended as outcome; fo must not return before.
func (h *spec[A, R]) ended(ctx context.Context, f *fleet.Fleet, fo *fanning[R], outcome fleet.Outcome, servers ...int) {
	ginkgo.GinkgoHelper()
	h.waitFor(ctx, f, fo, outcome, fmt.Sprintf("answer it (%v)", outcome), servers)
}

func (h *spec[A, R]) waitFor(ctx context.Context, f *fleet.Fleet, fo *fanning[R], outcome fleet.Outcome, what string, servers []int) {
	ginkgo.GinkgoHelper()
	var last []fleet.Call
	h.Eventually(func() ([]int, error) {
		calls, err := f.Calls(ctx)
		last = calls
		var missing []int
		for _, s := range servers {
			if !slices.ContainsFunc(calls, func(c fleet.Call) bool { return c.Server == s && c.Outcome == outcome }) {
				missing = append(missing, s)
			}
		}
		if len(missing) > 0 && fo != nil && fo.returned.Load() {
			return nil, StopTrying(fmt.Sprintf("the fan-out returned before servers %v got its calls and could %s: "+
				"it returned too early (at the first result, the first error, or before its quorum), its journal so far:\n%s",
				missing, what, matchers.JournalTable(calls, f.Addrs())))
		}
		return missing, err
	}).WithContext(ctx).WithTimeout(h.within()).Should(BeEmpty(), func() string {
		return fmt.Sprintf("the calls reach servers %v, which %s (those listed have none yet); the journal:\n%s", servers, what, matchers.JournalTable(last, f.Addrs()))
	})
}

// servers is 0, 1, …, n-1.
func servers(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// shuffled returns 0..n-1 in an order drawn from the run's seed and salt.
func (h *spec[A, R]) shuffled(n int, salt uint64) []int {
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	rng := rand.New(rand.NewPCG(uint64(h.Seed()), salt))
	rng.Shuffle(n, func(i, j int) { order[i], order[j] = order[j], order[i] })
	return order
}

// successes returns the positions of the outcomes that succeeded.
func successes[R any](outcomes []ResultOf[R]) []int {
	var ok []int
	for i, o := range outcomes {
		if o.Err == nil {
			ok = append(ok, i)
		}
	}
	return ok
}

// expectOnlyFrom checks that every success of outcomes (in input order,
// for the fleet's own addresses) is a server of answered: a success
// claimed for a call its server never replied to is false. Under Hedged a
// call may have been answered by any server of answered.
func (h *spec[A, R]) expectOnlyFrom(f *fleet.Fleet, who string, outcomes []ResultOf[R], answered []int) {
	ginkgo.GinkgoHelper()
	servers := f.Addrs()
	var from []string
	for _, s := range answered {
		from = append(from, servers[s])
	}
	for i, o := range outcomes {
		if o.Err != nil {
			continue
		}
		if h.cfg.hedgeMax > 0 {
			h.Expect(h.fromAny(who, servers, from, o.Reply)).To(BeTrue(),
				"outcome %d (server %d) is a success with a reply none of the servers that replied (%v) sent", i, i, answered)
			continue
		}
		h.Expect(answered).To(ContainElement(i), "outcome %d is a success, but server %d never replied (it holds the call): a success the fan-out did not get", i, i)
		h.Expect(h.call.Check(who, i, o.Reply)).To(Succeed(), "the reply of outcome %d is server %d's", i, i)
	}
}

// quorumReached: all hold; k released one by one; the fan-out returns with
// exactly those k, the others let go. An even and an odd fleet.
func (h *spec[A, R]) quorumReached(ctx context.Context) {
	for _, n := range []int{4, 5} {
		h.quorumReachedOf(ctx, n)
	}
}

func (h *spec[A, R]) quorumReachedOf(ctx context.Context, n int) {
	ginkgo.GinkgoHelper()
	k := h.quorumOf(n)
	e := h.setup(ctx, n)
	h.Expect(e.f.SetFaults(ctx, faults.MustParse("hold"))).To(Succeed())
	done := h.async(ctx, e, e.f.Addrs(), h.long())
	h.holding(ctx, e.f, done, servers(n)...)
	order := h.shuffled(n, uint64(10+n))
	released := order[:max(0, min(k, n))]
	for _, s := range released {
		h.Expect(e.f.Release(ctx, s)).To(Succeed())
	}
	run := h.await(ctx, done, h.within(),
		"the fan-out did not return after %d of its %d servers (%v) replied, a quorum of %d; the others still hold their replies: a quorum caller that waits for every reply", len(released), n, released, k)
	outcomes := h.inOrder(run)
	h.Expect(run.Err).NotTo(HaveOccurred(), "the fan-out's error once its quorum of %d was reached", k)
	h.expectOnlyFrom(e.f, name, outcomes, released)
	if h.cfg.hedgeMax == 0 {
		h.Expect(successes(outcomes)).To(ConsistOf(released), "the successes are exactly the %d servers that replied (%v)", len(released), released)
	} else {
		h.Expect(len(successes(outcomes))).To(BeNumerically(">=", len(released)), "at least the quorum of %d succeeded", k)
	}
	h.expectLetGo(ctx, run, fmt.Sprintf("the %d calls beyond the quorum are still held by their servers, and a quorum caller must let them go (cancel them) when it returns", n-len(released)))
}

// quorumLost: n-k+1 servers fail at once, the rest hold: the fan-out
// fails promptly. An even and an odd fleet.
func (h *spec[A, R]) quorumLost(ctx context.Context) {
	for _, n := range []int{4, 5} {
		h.quorumLostOf(ctx, n)
	}
}

func (h *spec[A, R]) quorumLostOf(ctx context.Context, n int) {
	ginkgo.GinkgoHelper()
	k := h.quorumOf(n)
	lost := min(n, n-k+1)
	order := h.shuffled(n, uint64(20+n))
	failing, holding := order[:lost], order[lost:]
	e := h.setup(ctx, n)
	for _, s := range failing {
		h.Expect(e.f.SetServerFaults(ctx, s, faults.MustParse(fmt.Sprintf("error=down-%d", s)))).To(Succeed())
	}
	for _, s := range holding {
		h.Expect(e.f.SetServerFaults(ctx, s, faults.MustParse("hold"))).To(Succeed())
	}
	addrs := e.f.Addrs()
	run := h.fanOut(ctx, e, addrs, h.within())
	outcomes := h.inOrder(run)
	h.Expect(run.Err).To(HaveOccurred(), "the fan-out's error when %d of %d servers failed and a quorum of %d is out of reach", lost, n, k)
	h.expectOnlyFrom(e.f, name, outcomes, nil)
	for _, s := range failing {
		var se rpc.ServerError
		h.Expect(errors.As(outcomes[s].Err, &se)).To(BeTrue(), "outcome %d, of a server that replied with an error, is its rpc.ServerError, not %v", s, outcomes[s].Err)
	}
	if h.cfg.aggregates {
		for _, s := range failing {
			h.Expect(mentions(run.Err.Error(), addrs[s])).To(BeTrue(), "the fan-out's error names failed server %s: %q", addrs[s], run.Err)
		}
		h.Expect(errors.As(run.Err, new(rpc.ServerError))).To(BeTrue(), "errors.As finds an rpc.ServerError through the fan-out's error %q", run.Err)
	}
	h.expectLetGo(ctx, run, fmt.Sprintf("the calls to the %d servers that still hold them cannot make a quorum any more and must be let go", len(holding)))
}

// successAfterFailure: one server fails at once, the rest hold; the spec
// releases k of them: the fan-out returns their successes, not the error.
func (h *spec[A, R]) successAfterFailure(ctx context.Context) {
	const n = 4
	k := h.quorumOf(n)
	e := h.setup(ctx, n)
	h.Expect(e.f.SetServerFaults(ctx, 0, faults.MustParse("error=down-first"))).To(Succeed())
	for s := 1; s < n; s++ {
		h.Expect(e.f.SetServerFaults(ctx, s, faults.MustParse("hold"))).To(Succeed())
	}
	done := h.async(ctx, e, e.f.Addrs(), h.long())
	h.ended(ctx, e.f, done, fleet.Failed, 0)
	h.holding(ctx, e.f, done, 1, 2, 3)
	released := []int{1, 2, 3}[:k]
	for _, s := range released {
		h.Expect(e.f.Release(ctx, s)).To(Succeed())
	}
	run := h.await(ctx, done, h.within(), "the fan-out did not return after servers %v replied", released)
	outcomes := h.inOrder(run)
	h.Expect(run.Err).NotTo(HaveOccurred(), "the fan-out's error: server 0 failed first, then %d servers succeeded, a quorum of %d (a caller that returns at the first result returns server 0's error)", k, k)
	h.Expect(outcomes[0].Err).To(HaveOccurred(), "server 0 replied with an error, so its outcome is one")
	h.expectOnlyFrom(e.f, name, outcomes, released)
	h.Expect(len(successes(outcomes))).To(BeNumerically(">=", k), "the %d successes that came after the failure are reported", k)
	h.expectLetGo(ctx, run, "the calls still held are no longer needed")
}

// quorumTolerates: n-k servers hang or are blackholed; the rest answer:
// the fan-out returns promptly with a quorum.
func (h *spec[A, R]) quorumTolerates(ctx context.Context) {
	const n = 5
	k := h.quorumOf(n)
	spare := max(0, n-max(k, 0))
	order := h.shuffled(n, 12)
	bad := order[:min(spare, n)]
	e := h.setup(ctx, n)
	for j, s := range bad {
		fault := "hang"
		if j%2 == 1 {
			fault = "blackhole"
		}
		h.Expect(e.f.SetServerFaults(ctx, s, faults.MustParse(fault))).To(Succeed())
	}
	run := h.fanOut(ctx, e, e.f.Addrs(), h.within())
	outcomes := h.inOrder(run)
	if k > n {
		h.Expect(run.Err).To(HaveOccurred(), "a quorum of %d of %d servers cannot be reached", k, n)
		return
	}
	h.Expect(run.Err).NotTo(HaveOccurred(), "the fan-out's error: %d servers answered, a quorum of %d, while %v hang or drop SYNs", n-len(bad), k, bad)
	h.expectOnlyFrom(e.f, name, outcomes, order[len(bad):])
	h.Expect(len(successes(outcomes))).To(BeNumerically(">=", k), "a quorum of %d succeeded", k)
	h.expectLetGo(ctx, run, fmt.Sprintf("calls to the hanging and blackholed servers %v are not needed once the quorum is reached", bad))
}

// quorumSizes: every fleet size from 0 to 5, all servers sound.
func (h *spec[A, R]) quorumSizes(ctx context.Context) {
	for n := range 6 {
		k := h.quorumOf(n)
		var run observed[R]
		var f *fleet.Fleet
		if n == 0 {
			run = h.fanOutUnder(ctx, ctx, nil, h.implOnly(), nil, h.within())
		} else {
			e := h.setup(ctx, n)
			f = e.f
			run = h.fanOut(ctx, e, e.f.Addrs(), h.within())
		}
		switch {
		case k > n:
			h.Expect(run.Err).To(HaveOccurred(), "the fan-out to %d servers needs %d successes, out of reach from the start, so it fails", n, k)
		case k <= 0:
			h.Expect(run.Err).NotTo(HaveOccurred(), "the fan-out to %d servers needs %d successes: it has its quorum at once", n, k)
		default:
			h.Expect(run.Err).NotTo(HaveOccurred(), "the fan-out to %d sound servers reaches its quorum of %d", n, k)
		}
		if n == 0 {
			continue
		}
		outcomes := h.inOrder(run)
		h.expectReplies(f, run.Addrs, outcomes)
		if k >= 1 && k <= n {
			h.Expect(len(successes(outcomes))).To(BeNumerically(">=", k), "the fan-out to %d servers reports at least its quorum of %d successes", n, k)
		}
	}
}

// quorumCauses: every server fails with its own text: the error wraps
// the causes of at least the failures that made the quorum impossible.
func (h *spec[A, R]) quorumCauses(ctx context.Context) {
	const n = 3
	k := max(1, h.quorumOf(n))
	e := h.setup(ctx, n)
	for s := range n {
		h.Expect(e.f.SetServerFaults(ctx, s, faults.MustParse(fmt.Sprintf("error=cause-%d", s)))).To(Succeed())
	}
	run := h.fanOut(ctx, e, e.f.Addrs(), h.within())
	h.Expect(run.Err).To(HaveOccurred(), "the fan-out's error when all %d servers failed", n)
	named := 0
	for s := range n {
		if strings.Contains(run.Err.Error(), fmt.Sprintf("cause-%d", s)) {
			named++
		}
	}
	h.Expect(named).To(BeNumerically(">=", min(n, n-k+1)),
		"the fan-out's error wraps the cause of each of the %d failures that put a quorum of %d of %d out of reach (cause-0 … cause-%d); it has %d: %q", n-k+1, k, n, n-1, named, run.Err)
	h.Expect(errors.As(run.Err, new(rpc.ServerError))).To(BeTrue(), "errors.As finds an rpc.ServerError through the fan-out's error %q", run.Err)
}

// quorumTimesOut: the servers a quorum needs hang: the fan-out fails by
// its timeout, the hung calls timed out.
func (h *spec[A, R]) quorumTimesOut(ctx context.Context) {
	const n = 3
	k := h.quorumOf(n)
	hung := n - k + 1
	timeout := h.short()
	e := h.setupWith(ctx, n, timeout)
	for s := range hung {
		h.Expect(e.f.SetServerFaults(ctx, s, faults.MustParse("hang"))).To(Succeed())
	}
	bound := h.timedOutBy(timeout, hung)
	run := h.fanOut(ctx, e, e.f.Addrs(), bound)
	h.Expect(run.Run).To(matchers.CompleteWithin(bound), "a call without a timeout hangs for ever")
	h.Expect(run.Elapsed).To(BeNumerically(">=", timeout), "the fan-out gave up on the hanging servers before their %v timeout", timeout)
	h.Expect(run.Err).To(HaveOccurred(), "the fan-out's error when the %d servers its quorum of %d needs hang", hung, k)
	outcomes := h.inOrder(run)
	for s := range hung {
		h.Expect(outcomes[s].Err).To(h.beATimeout(), "outcome %d, of a hanging server, says its call timed out", s)
	}
	if h.cfg.aggregates || h.cfg.shape == firstSuccess {
		h.Expect(run.Err).To(h.beATimeout(), "the fan-out's error wraps the timeouts of the calls it needed; it was %s", errText(run.Err))
	}
}

// quorumCancelled: every server hangs; ctx is cancelled.
func (h *spec[A, R]) quorumCancelled(ctx context.Context) {
	const n, after = 4, 100 * time.Millisecond
	e := h.setup(ctx, n, fleet.WithFaults(faults.MustParse("hang")))
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	time.AfterFunc(after, cancel)
	run := h.fanOutUnder(ctx, fctx, e.f, e.impl, e.f.Addrs(), after+h.late())
	h.Expect(run.Run).To(matchers.CompleteWithin(after + h.late()))
	h.Expect(run.Err).To(HaveOccurred(), "the fan-out's error when ctx was cancelled before any server answered")
	// It returns once its quorum is out of reach: after n-k+1 calls failed
	// with ctx's error; the others it lets go, with any error.
	k := h.quorumOf(n)
	cancelled := 0
	for i, o := range h.inOrder(run) {
		h.Expect(o.Err).To(HaveOccurred(), "outcome %d, of a hanging server, fails", i)
		if errors.Is(o.Err, context.Canceled) {
			cancelled++
		}
	}
	h.Expect(cancelled).To(BeNumerically(">=", n-k+1), "the %d calls whose failure put a quorum of %d out of reach fail with ctx's error, context.Canceled; %d did", n-k+1, k, cancelled)
	e.Finish(ctx)
}

// failsFast: one server fails at once, the rest hold.
func (h *spec[A, R]) failsFast(ctx context.Context) {
	const n = 5
	bad := h.shuffled(n, 13)[0]
	e := h.setup(ctx, n)
	for s := range n {
		fault := "hold"
		if s == bad {
			fault = "error=boom"
		}
		h.Expect(e.f.SetServerFaults(ctx, s, faults.MustParse(fault))).To(Succeed())
	}
	addrs := e.f.Addrs()
	run := h.fanOut(ctx, e, addrs, h.within())
	h.expectFailedFast(ctx, e, run, bad, "boom", WithTransform(func(err error) bool { return errors.As(err, new(rpc.ServerError)) }, BeTrue()))
}

// failsFastRefused: one server is down, the rest hold.
func (h *spec[A, R]) failsFastRefused(ctx context.Context) {
	const n = 4
	bad := h.shuffled(n, 14)[0]
	e := h.setup(ctx, n, fleet.WithFaults(faults.MustParse("hold")))
	h.Expect(e.f.Kill(ctx, bad)).To(Succeed())
	run := h.fanOut(ctx, e, e.f.Addrs(), h.within())
	h.expectFailedFast(ctx, e, run, bad, "", MatchError(syscall.ECONNREFUSED))
}

// expectFailedFast checks a fail-fast run whose server bad failed while
// the others held their replies.
func (h *spec[A, R]) expectFailedFast(ctx context.Context, e *env[A, R], run observed[R], bad int, text string, cause types.GomegaMatcher) {
	ginkgo.GinkgoHelper()
	outcomes := h.inOrder(run)
	h.Expect(run.Err).To(HaveOccurred(), "the fan-out's error after server %d failed", bad)
	h.Expect(run.Err).To(cause, "the fan-out's error is the failure's own cause, not the context.Canceled its own cancel gave the other calls: %q", run.Err)
	if text != "" {
		h.Expect(run.Err.Error()).To(ContainSubstring(text), "the fan-out's error carries the failure's text %q", text)
	}
	h.Expect(outcomes[bad].Err).To(cause, "outcome %d, of the server that failed, has the failure's cause", bad)
	h.expectOnlyFrom(e.f, name, outcomes, nil)
	if h.cfg.aggregates {
		h.Expect(mentions(run.Err.Error(), run.Addrs[bad])).To(BeTrue(), "the fan-out's error names the failed address %s: %q", run.Addrs[bad], run.Err)
	}
	h.expectLetGo(ctx, run, "the calls still held by their servers must be cancelled once the fan-out fails")
}

// deadlineReached: two servers hold: the fan-out returns at its deadline
// with the others' replies.
func (h *spec[A, R]) deadlineReached(ctx context.Context) {
	const n = 5
	timeout := h.short()
	order := h.shuffled(n, 15)
	holding, answering := order[:2], order[2:]
	e := h.setupWith(ctx, n, timeout)
	for _, s := range holding {
		h.Expect(e.f.SetServerFaults(ctx, s, faults.MustParse("hold"))).To(Succeed())
	}
	run := h.fanOut(ctx, e, e.f.Addrs(), timeout+h.late())
	h.Expect(run.Elapsed).To(BeNumerically(">=", timeout), "the fan-out returned before its %v deadline while servers %v still held their replies", timeout, holding)
	h.Expect(run.Run).To(matchers.CompleteWithin(timeout + h.late()))
	outcomes := h.inOrder(run)
	for _, s := range answering {
		h.Expect(outcomes[s].Err).NotTo(HaveOccurred(), "outcome %d: server %d replied before the deadline, and its reply is kept", s, s)
	}
	h.expectOnlyFrom(e.f, name, outcomes, answering)
	for _, s := range holding {
		h.Expect(outcomes[s].Err).To(h.beATimeout(), "outcome %d: server %d never replied before the deadline, so its outcome says it timed out", s, s)
	}
	h.expectLetGo(ctx, run, fmt.Sprintf("the calls to servers %v, cut off by the deadline, are let go", holding))
}

// deadlineNotNeeded: failures and successes, all quick, under a long
// deadline: the fan-out returns at once.
func (h *spec[A, R]) deadlineNotNeeded(ctx context.Context) {
	e := h.setup(ctx, 5)
	h.Expect(e.f.SetServerFaults(ctx, 1, faults.MustParse("error=down"))).To(Succeed())
	h.Expect(e.f.Kill(ctx, 3)).To(Succeed())
	addrs := e.f.Addrs()
	run := h.fanOut(ctx, e, addrs, h.within())
	h.Expect(run.Run).To(matchers.FailExactlyOn(addrs[1], addrs[3]), "every call ended quickly, two of them failing, so the fan-out returns with each outcome well before its %v deadline", h.long())
	h.expectReplies(e.f, addrs, h.inOrder(run))
}

// deadlineFromStart: a reply late in the deadline, another after it. A
// deadline restarted by each reply (a time.After inside the receive loop)
// would still be open for the second; the fan-out's own is not.
func (h *spec[A, R]) deadlineFromStart(ctx context.Context) {
	// Server 1 answers a margin before the deadline, server 2 a margin
	// after it; a deadline restarted by server 1's reply would still be
	// open a margin after server 2's.
	timeout := h.scale(5 * time.Second)
	margin := h.late() / 2
	e := h.setupWith(ctx, 3, timeout)
	for _, s := range []int{1, 2} {
		h.Expect(e.f.SetServerFaults(ctx, s, faults.MustParse("hold"))).To(Succeed())
	}
	start := time.Now()
	fo := h.async(ctx, e, e.f.Addrs(), 2*timeout+h.late())
	h.holding(ctx, e.f, fo, 1, 2)
	// The first reply comes near the end of the deadline...
	time.Sleep(time.Until(start.Add(timeout - margin)))
	h.Expect(e.f.Release(ctx, 1)).To(Succeed())
	// ...and the second after it, if the fan-out is still waiting by then.
	var run observed[R]
	select {
	case run = <-fo.done:
	case <-time.After(time.Until(start.Add(timeout + margin))):
		h.Expect(e.f.Release(ctx, 2)).To(Succeed())
		run = h.await(ctx, fo, h.within(), "the fan-out did not return after its last server replied")
	}
	outcomes := h.inOrder(run)
	h.Expect(outcomes[1].Err).NotTo(HaveOccurred(), "server 1 replied before the deadline, so its reply is kept; its outcome is %s", errText(outcomes[1].Err))
	h.Expect(outcomes[2].Err).To(h.beATimeout(),
		"server 2 replied only %v after the fan-out began, %v past its %v deadline, so its outcome is a timeout; a deadline restarted by server 1's reply at %v took it",
		timeout+margin, margin, timeout, timeout-margin)
	h.Expect(run.Elapsed).To(BeNumerically("<", timeout+margin), "the fan-out returned at its deadline, %v, not %v later", timeout, run.Elapsed-timeout)
}

// deadlineRounds: a hung server over three rounds.
func (h *spec[A, R]) deadlineRounds(ctx context.Context) {
	timeout := h.short()
	e := h.setupWith(ctx, 3, timeout)
	h.Expect(e.f.SetServerFaults(ctx, 0, faults.MustParse("hang"))).To(Succeed())
	for round := range 3 {
		run := h.fanOut(ctx, e, e.f.Addrs(), timeout+h.late())
		outcomes := h.inOrder(run)
		h.Expect(outcomes[0].Err).To(h.beATimeout(), "round %d: the hung server's outcome says it timed out", round)
		h.Expect(run.Run).To(matchers.FailExactlyOn(run.Addrs[0]), "round %d: only the hung server fails", round)
		h.expectLetGo(ctx, run, fmt.Sprintf("round %d: the call to the hung server, cut off by the deadline, is let go (or one goroutine piles up per round)", round))
	}
}

// hedgesStraggler: one server of four holds: its call is hedged to
// another after the delay, and the backup's reply wins.
func (h *spec[A, R]) hedgesStraggler(ctx context.Context) {
	const n = 4
	delay := h.cfg.hedgeDelay
	e := h.setup(ctx, n)
	h.Expect(e.f.SetServerFaults(ctx, 0, faults.MustParse("hold"))).To(Succeed())
	start := time.Now()
	run := h.fanOut(ctx, e, e.f.Addrs(), delay+h.within())
	outcomes := h.inOrder(run)
	h.Expect(outcomes[0].Err).NotTo(HaveOccurred(),
		"server 0 holds its reply, so its call succeeds only by a backup to another server after %v: a caller that does not hedge, or hedges to server 0 itself, has none", delay)
	h.Expect(h.fromAny(name, run.Servers, run.Servers[1:], outcomes[0].Reply)).To(BeTrue(), "the reply of outcome 0 is another server's: server 0 never replied")
	h.Expect(run.Run).To(matchers.AllSucceed())
	early := 0
	for _, c := range run.Calls {
		if c.Received.Before(start.Add(delay)) {
			early++
		}
	}
	h.Expect(early).To(BeNumerically("<=", n), "before the hedge delay of %v at most one call per address may be sent; %d were received:\n%s", delay, early, matchers.JournalTable(run.Calls, run.Servers))
	h.Expect(len(run.Calls)).To(BeNumerically(">", n), "a backup call was received")
	h.Expect(len(run.Calls)).To(BeNumerically("<=", n*(1+h.cfg.hedgeMax)), "at most %d backups per call:\n%s", h.cfg.hedgeMax, matchers.JournalTable(run.Calls, run.Servers))
	h.expectLetGo(ctx, run, "the call to server 0, which lost to its backup, is let go")
}

// hedgesBounded: every server holds for a while: however many delays
// pass, at most max backups per call are sent.
func (h *spec[A, R]) hedgesBounded(ctx context.Context) {
	const n = 4
	delay, most := h.cfg.hedgeDelay, h.cfg.hedgeMax
	e := h.setup(ctx, n, fleet.WithFaults(faults.MustParse("hold")))
	done := h.async(ctx, e, e.f.Addrs(), h.long())
	h.holding(ctx, e.f, done, 0, 1, 2, 3)
	count := func() (int, error) {
		calls, err := e.f.Calls(ctx)
		return len(calls), err
	}
	h.Consistently(count).WithContext(ctx).WithTimeout(time.Duration(most+3)*delay+h.cfg.slack).WithPolling(delay/4).Should(
		BeNumerically("<=", n*(1+most)), "calls received while every server holds its reply, %d delays of %v long: at most %d backups per call", most+3, delay, most)
	h.Expect(e.f.SetFaults(ctx, faults.Plan{})).To(Succeed())
	h.Expect(e.f.ReleaseAll(ctx)).To(Succeed())
	run := h.await(ctx, done, h.within(), "the fan-out did not return once every server released its replies")
	h.Expect(run.Run).To(matchers.AllSucceed())
	h.Expect(len(run.Calls)).To(BeNumerically("<=", n*(1+most)), "at most %d backups per call:\n%s", most, matchers.JournalTable(run.Calls, run.Servers))
}

// inFlightMost is the most calls the journal shows received and not yet
// replied to at once, by the fleet-wide order of receipts and replies.
func inFlightMost(calls []fleet.Call) int {
	type event struct {
		at    uint64
		delta int
	}
	var events []event
	for _, c := range calls {
		events = append(events, event{c.ReceivedAt, +1})
		if c.RepliedAt != 0 {
			events = append(events, event{c.RepliedAt, -1})
		}
	}
	slices.SortFunc(events, func(a, b event) int {
		if a.at < b.at {
			return -1
		}
		if a.at > b.at {
			return 1
		}
		return 0
	})
	most, now := 0, 0
	for _, e := range events {
		now += e.delta
		most = max(most, now)
	}
	return most
}

// boundHeld: every server holds; the spec releases the calls held, wave
// by wave: never more than c at once, and the next come as slots free.
func (h *spec[A, R]) boundHeld(ctx context.Context) {
	c := h.cfg.bound
	n := min(2*c+1, 60)
	e := h.setup(ctx, n, fleet.WithFaults(faults.MustParse("hold")))
	done := h.async(ctx, e, e.f.Addrs(), h.long())
	var run observed[R]
	count := func(outcomes ...fleet.Outcome) (int, error) {
		calls, err := e.f.Calls(ctx)
		k := 0
		for _, call := range calls {
			if slices.Contains(outcomes, call.Outcome) {
				k++
			}
		}
		return k, err
	}
	for {
		answered, err := count(fleet.OK)
		h.Expect(err).NotTo(HaveOccurred())
		if answered >= n {
			break
		}
		want := min(c, n-answered)
		h.Eventually(count).WithArguments(fleet.Held).WithContext(ctx).WithTimeout(h.within()).Should(BeNumerically(">=", want),
			"with %d of %d calls answered, the caller keeps %d in flight (its bound, or what is left): it starts a call as a slot frees", answered, n, want)
		calls, err := e.f.Calls(ctx)
		h.Expect(err).NotTo(HaveOccurred())
		h.Expect(inFlightMost(calls)).To(BeNumerically("<=", c), "never more than %d calls in flight:\n%s", c, matchers.JournalTable(calls, e.f.Addrs()))
		released := h.releaseHeld(ctx, e.f, calls)
		h.Eventually(count).WithArguments(fleet.OK).WithContext(ctx).WithTimeout(h.within()).Should(BeNumerically(">=", answered+released),
			"the %d calls released are answered", released)
	}
	run = h.await(ctx, done, h.within(), "the fan-out did not return once every call was answered")
	h.Expect(run.Run).To(matchers.AllSucceed())
	h.Expect(run.Run).To(matchers.HaveOneCallPerServer(n))
	h.Expect(inFlightMost(run.Calls)).To(BeNumerically("<=", c), "never more than %d calls in flight:\n%s", c, matchers.JournalTable(run.Calls, run.Servers))
	h.expectReplies(e.f, run.Addrs, h.inOrder(run))
}

// releaseHeld releases the servers that hold a call of calls, and only
// them: ReleaseAll, going from server to server, would also release a
// call that came to a later server as the first replies freed slots.
// It returns how many calls it released.
func (h *spec[A, R]) releaseHeld(ctx context.Context, f *fleet.Fleet, calls []fleet.Call) int {
	ginkgo.GinkgoHelper()
	done := map[int]bool{}
	n := 0
	for _, c := range calls {
		if c.Outcome != fleet.Held {
			continue
		}
		n++
		if !done[c.Server] {
			done[c.Server] = true
			h.Expect(f.Release(ctx, c.Server)).To(Succeed(), "releasing server %d", c.Server)
		}
	}
	return n
}

// boundPaced: n servers delayed d take ⌈n/c⌉·d: no slower (serial), no
// faster (over the bound).
func (h *spec[A, R]) boundPaced(ctx context.Context) {
	c := h.cfg.bound
	n := min(2*c+1, 51)
	waves := (n + c - 1) / c
	d := h.scale(300 * time.Millisecond)
	e := h.setup(ctx, n, fleet.WithFaults(faults.MustParse(fmt.Sprintf("delay=%v", d))))
	ideal := time.Duration(waves) * d
	run := h.fanOut(ctx, e, e.f.Addrs(), ideal+h.late())
	h.Expect(run.Run).To(matchers.AllSucceed())
	h.Expect(run.Elapsed).To(BeNumerically(">=", ideal), "%d servers delayed %v, at most %d at once, take at least %d waves (%v): it had more calls in flight", n, d, c, waves, ideal)
	h.Expect(run.Run).To(matchers.CompleteWithin(ideal+h.late()), "%d servers delayed %v with %d in flight take about %v; one at a time, %v", n, d, c, ideal, time.Duration(n)*d)
	h.Expect(inFlightMost(run.Calls)).To(BeNumerically("<=", c), "never more than %d calls in flight:\n%s", c, matchers.JournalTable(run.Calls, run.Servers))
}

// boundCancelled: more hanging servers than slots; ctx is cancelled.
func (h *spec[A, R]) boundCancelled(ctx context.Context) {
	const after = 200 * time.Millisecond
	c := h.cfg.bound
	n := min(c+2, 60)
	e := h.setup(ctx, n, fleet.WithFaults(faults.MustParse("hang")))
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	time.AfterFunc(after, cancel)
	run := h.fanOutUnder(ctx, fctx, e.f, e.impl, e.f.Addrs(), after+h.late())
	h.Expect(run.Run).To(matchers.CompleteWithin(after+h.late()), "calls waiting for one of the %d slots, all held by hanging servers, end with ctx", c)
	h.expectCancelled(run.outcomes, servers(len(run.outcomes))...)
	e.Finish(ctx)
}

// boundTimedFromSlot: the second wave of calls is held for less than the
// timeout from its slot, more than it from the fan-out's start.
func (h *spec[A, R]) boundTimedFromSlot(ctx context.Context) {
	c := h.cfg.bound
	n := 2 * c
	// Held 55% of the timeout per wave: 45% to spare for a caller that
	// times each call from its slot; the second wave ends 10% past the
	// timeout from the fan-out's start.
	timeout := h.scale(6 * time.Second)
	hold := timeout * 55 / 100
	e := h.setupWith(ctx, n, timeout, fleet.WithFaults(faults.MustParse("hold")))
	done := h.async(ctx, e, e.f.Addrs(), 3*timeout)
	seen := map[int]bool{} // the calls of earlier waves
	for wave := range 2 {
		h.Eventually(func() (int, error) {
			calls, err := e.f.Calls(ctx)
			held := 0
			for _, call := range calls {
				if call.Outcome == fleet.Held && !seen[call.ID] {
					held++
				}
			}
			return held, err
		}).WithContext(ctx).WithTimeout(h.within()).Should(Equal(c), "wave %d: %d calls reach their servers, which hold them", wave, c)
		arrived := time.Now()
		// The event ordered here is a timeout, which only a clock shows.
		time.Sleep(time.Until(arrived.Add(hold)))
		calls, err := e.f.Calls(ctx)
		h.Expect(err).NotTo(HaveOccurred())
		for _, call := range calls {
			seen[call.ID] = true
		}
		h.releaseHeld(ctx, e.f, calls)
	}
	run := h.await(ctx, done, h.within(), "the fan-out did not return once both waves were released")
	h.Expect(run.Run).To(matchers.AllSucceed(), "each call was held %v, less than its %v timeout from its slot (though the second wave ended %v after the fan-out began)", hold, timeout, 2*hold)
}

// retriesUntilSuccess: a server fails attempts-1 times, then answers.
func (h *spec[A, R]) retriesUntilSuccess(ctx context.Context) {
	a := h.cfg.attempts
	e := h.setup(ctx, 3)
	h.Expect(e.f.SetServerFaults(ctx, 1, faults.MustParse(fmt.Sprintf("error=flaky,first=%d", a-1)))).To(Succeed())
	run := h.fanOut(ctx, e, e.f.Addrs(), h.within())
	outcomes := h.inOrder(run)
	h.Expect(run.Run).To(matchers.AllSucceed(), "server 1 fails its first %d calls and answers the next: a caller that makes %d attempts gets its reply", a-1, a)
	h.expectReplies(e.f, run.Addrs, outcomes)
	calls, err := e.f.ServerCalls(ctx, 1)
	h.Expect(err).NotTo(HaveOccurred())
	h.Expect(calls).To(HaveLen(a), "server 1 received %d calls, %d failed and one answered:\n%s", a, a-1, matchers.JournalTable(calls, e.f.Addrs()))
}

// retriesBounded: a server that always fails, the others holding a
// while: it receives at most attempts calls.
func (h *spec[A, R]) retriesBounded(ctx context.Context) {
	a := h.cfg.attempts
	e := h.setup(ctx, 3, fleet.WithFaults(faults.MustParse("hold")))
	h.Expect(e.f.SetServerFaults(ctx, 0, faults.MustParse("error=always"))).To(Succeed())
	done := h.async(ctx, e, e.f.Addrs(), h.long())
	count := func() (int, error) {
		calls, err := e.f.ServerCalls(ctx, 0)
		return len(calls), err
	}
	h.Eventually(count).WithContext(ctx).WithTimeout(h.within()).Should(BeNumerically(">=", 1), "server 0 receives its call")
	h.Consistently(count).WithContext(ctx).WithTimeout(h.cfg.slack+time.Second).WithPolling(20*time.Millisecond).Should(
		BeNumerically("<=", a), "server 0 fails every call: a caller that claims at most %d attempts makes no more", a)
	for _, s := range []int{1, 2} { // server 0 keeps failing
		h.Expect(e.f.SetServerFaults(ctx, s, faults.Plan{})).To(Succeed())
		h.Expect(e.f.Release(ctx, s)).To(Succeed())
	}
	run := h.await(ctx, done, h.within(), "the fan-out did not return once servers 1 and 2 released their replies")
	outcomes := h.inOrder(run)
	if !h.cfg.shape.returnsEarly() && h.cfg.shape != failFast {
		h.Expect(outcomes[0].Err).To(MatchError(ContainSubstring("always")), "server 0 failed every attempt, so its outcome is its error")
		h.Expect(run.Run).To(matchers.FailExactlyOn(run.Addrs[0]),
			"servers 1 and 2 answered once released: running out of retries for server 0 must not cancel calls in flight to the others")
	}
	calls, err := e.f.ServerCalls(ctx, 0)
	h.Expect(err).NotTo(HaveOccurred())
	h.Expect(len(calls)).To(BeNumerically("<=", a), "server 0 received at most %d calls:\n%s", a, matchers.JournalTable(calls, e.f.Addrs()))
}

// oneAtATime: fan-outs one after another through one implementation.
func (h *spec[A, R]) oneAtATime(ctx context.Context) {
	const n = 5
	e := h.setup(ctx, n)
	for round := range 4 {
		who := fmt.Sprintf("fan-out %d", round)
		run := h.run(ctx, ctx, e.f, e.impl, e.f.Addrs(), who, h.within())
		h.expectShaped(e.f, who, run, n)
	}
}

// concurrentShaped: concurrent fan-outs to sound servers, judged by the
// shape's promises.
func (h *spec[A, R]) concurrentShaped(ctx context.Context) {
	const n, fanOuts = 5, 10
	e := h.setup(ctx, n, fleet.WithFaults(faults.MustParse("delay=5ms,jitter=5ms")))
	var wg sync.WaitGroup
	for k := range fanOuts {
		wg.Go(func() {
			defer h.Recover()
			who := fmt.Sprintf("fan-out %d", k)
			run := h.run(ctx, ctx, e.f, e.impl, e.f.Addrs(), who, h.within())
			h.expectShaped(e.f, who, run, n)
		})
	}
	wg.Wait()
}

// expectShaped checks a fan-out to n sound servers by the shape: its
// quorum (or every call) succeeded, each success with its own reply.
func (h *spec[A, R]) expectShaped(f *fleet.Fleet, who string, run observed[R], n int) {
	ginkgo.GinkgoHelper()
	outcomes := h.inOrder(run)
	h.expectRepliesTo(f, who, run.Addrs, outcomes)
	want := n
	if h.cfg.shape.returnsEarly() {
		want = h.quorumOf(n)
	}
	if want > n {
		h.Expect(run.Err).To(HaveOccurred(), "%s: a quorum of %d of %d is out of reach", who, want, n)
		return
	}
	h.Expect(run.Err).NotTo(HaveOccurred(), "%s: the fan-out's error when every server is sound", who)
	h.Expect(len(successes(outcomes))).To(BeNumerically(">=", want), "%s: %d of %d calls succeed, as the shape needs", who, want, n)
}
