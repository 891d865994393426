package suites

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gcustom"
	"github.com/onsi/gomega/gleak"
	"github.com/onsi/gomega/types"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites/internal/spectree"
	"github.com/rpcfleet/rpcfleet/suites/matchers"
)

// name is the name of every conformance fan-out but those of the
// concurrency specs, which name their own.
const name = "Alice"

// harness runs the conformance specs of one implementation of a call.
type harness[A, R any] struct {
	cfg     config
	call    Call[A, R]
	newImpl func(timeout time.Duration) FanOuterOf[A, R]
	leftOut []leftOut // specs not registered, and what would add them
}

// leftOut is a spec left out of a run: its text, and what would add it.
type leftOut struct{ text, want string }

// observed is one fan-out as a spec observed it: the Run the matchers
// take, and the outcomes with their replies, as FanOut returned them.
type observed[R any] struct {
	matchers.Run
	outcomes []ResultOf[R]
	before   []gleak.Goroutine // the process's goroutines as FanOut was called
}

// short is the per-call timeout of the specs about timeouts: long enough
// that sound servers answer in time on a busy machine.
func (h *harness[A, R]) short() time.Duration { return 2 * time.Second }

// late is how much later than its ideal a timed event may happen: three
// slacks. Every timed bound in the specs is the ideal plus late, far from
// what the bug it catches would take (a hang, serial calls, 20s).
func (h *harness[A, R]) late() time.Duration { return 3 * h.cfg.slack }

// long is the per-call timeout of every other spec: calls must not time
// out, even to 1,000 servers on a busy two-core machine with -race.
func (h *harness[A, R]) long() time.Duration { return h.scale(20 * time.Second) }

// scale grows spec and cleanup timeouts with the slack, for slow backends.
func (h *harness[A, R]) scale(d time.Duration) time.Duration {
	return d * time.Duration(max(1, (h.cfg.slack+time.Second-1)/time.Second))
}

// within is how long a fan-out that should be quick may take before the
// spec calls it stuck.
func (h *harness[A, R]) within() time.Duration { return 4*time.Second + h.cfg.slack }

// env is one spec's fleet and implementation.
type env[A, R any] struct {
	f    *fleet.Fleet
	impl FanOuterOf[A, R]

	once   sync.Once
	finish func(ctx context.Context)
}

// Finish closes the implementation and checks, while the fleet still
// runs, that it left no goroutine and (in-process) no open connection
// behind. It runs at the latest when the spec ends, before the fleet stops;
// calling it earlier makes the check part of the spec.
func (e *env[A, R]) Finish(ctx context.Context) {
	ginkgo.GinkgoHelper()
	e.once.Do(func() { e.finish(ctx) })
}

// setup starts a fleet of n servers, then a fresh implementation with the
// long timeout. When the spec ends the implementation is closed and
// checked (see Finish), then the fleet stops.
func (h *spec[A, R]) setup(ctx context.Context, n int, opts ...fleet.Option) *env[A, R] {
	ginkgo.GinkgoHelper()
	return h.setupWith(ctx, n, h.long(), opts...)
}

// setupWith is setup with the implementation's per-call timeout.
func (h *spec[A, R]) setupWith(ctx context.Context, n int, timeout time.Duration, opts ...fleet.Option) *env[A, R] {
	ginkgo.GinkgoHelper()
	f := h.startFleet(ctx, n, opts...)
	baseline := gleak.Goroutines()
	conns := openConns(ctx, f)
	e := &env[A, R]{f: f}
	e.finish = func(ctx context.Context) {
		ginkgo.GinkgoHelper()
		h.close(e.impl)
		closed := "returned and closed"
		if _, ok := e.impl.(interface{ Close() error }); !ok {
			closed = "returned (it has no Close method: if it keeps connections between fan-outs, " +
				"pass its Close with it, suites.Closing(fanOut, close))"
		}
		h.Eventually(gleak.Goroutines).WithContext(ctx).WithTimeout(h.scale(5*time.Second)).ShouldNot(
			matchers.HaveLeaked(baseline, notOwnedByImpl()),
			"goroutines the implementation left behind after it %s, while the fleet still runs", closed)
		if conns >= 0 {
			open := conns // as last counted
			h.Eventually(func() int {
				open = openConns(ctx, f)
				return open
			}).WithContext(ctx).WithTimeout(h.scale(5*time.Second)).Should(
				Equal(conns), func() string {
					return fmt.Sprintf("the fleet's open connections return to the %d of before the implementation ran, once it %s; %d were open",
						conns, closed, open)
				})
		}
	}
	h.Cleanup(e.Finish, h.scale(20*time.Second))
	e.impl = h.newImpl(timeout)
	return e
}

// implOnly returns a fresh implementation, closed when the spec ends, for
// specs that need no fleet.
func (h *spec[A, R]) implOnly() FanOuterOf[A, R] {
	impl := h.newImpl(h.long())
	h.Cleanup(func(context.Context) { h.close(impl) }, h.scale(20*time.Second))
	return impl
}

// close closes impl if it has a Close method.
func (h *spec[A, R]) close(impl FanOuterOf[A, R]) {
	ginkgo.GinkgoHelper()
	if c, ok := impl.(interface{ Close() error }); ok {
		err := c.Close()
		h.Expect(err).To(Succeed(), "closing the implementation succeeds; Close returned %v", err)
	}
}

// startFleet starts n servers seeded from Ginkgo's random seed and stops
// them when the spec ends.
func (h *spec[A, R]) startFleet(ctx context.Context, n int, opts ...fleet.Option) *fleet.Fleet {
	ginkgo.GinkgoHelper()
	all := []fleet.Option{fleet.WithServers(n), fleet.WithSeed(uint64(h.Seed()))}
	if h.call.Service != nil {
		all = append(all, h.call.Service)
	}
	all = append(all, h.cfg.fleetOpts...)
	if h.cfg.virtual != nil {
		all = append(all, fleet.WithMemory())
	}
	f, err := h.cfg.start(ctx, append(all, opts...)...)
	h.Expect(err).NotTo(HaveOccurred(), "starting a fleet of %d servers succeeds; it failed: %v", n, err)
	if h.cfg.virtual != nil {
		h.cfg.virtual.point(f)
		h.Cleanup(func(context.Context) { h.cfg.virtual.point(nil) }, time.Second)
	}
	h.Cleanup(func(ctx context.Context) {
		err := f.Stop(ctx)
		h.Expect(err).To(Succeed(), "stopping the fleet succeeds; it failed: %v", err)
	}, h.scale(30*time.Second))
	return f
}

// openConns returns the number of connections open on the fleet, or -1
// if its backend cannot count them.
func openConns(ctx context.Context, f *fleet.Fleet) int {
	n := 0
	for i := range f.Len() {
		c, err := f.OpenConns(ctx, i)
		if err != nil {
			return -1
		}
		n += c
	}
	return n
}

// backendCreators start the goroutines a container backend's Docker
// client keeps (idle HTTP connections), which outlive a fleet.
func backendCreators() []string {
	return []string{"net/http.", "github.com/testcontainers/", "github.com/moby/", "github.com/docker/", "go.opentelemetry.io/"}
}

// notOwnedByImpl matches goroutines that belong to the fleet, its backend
// or the test framework rather than to the implementation under test:
// those started by the fleet's servers and fault codecs, net/rpc's server
// side, and a container backend's Docker client.
func notOwnedByImpl() types.GomegaMatcher {
	return createdBy(append([]string{"github.com/rpcfleet/rpcfleet/fleet", "github.com/rpcfleet/rpcfleet/internal/inject", "net/rpc.(*Server)"},
		backendCreators()...))
}

// harnessOwned matches the goroutines of the suite and of Ginkgo and
// Gomega themselves, which a spec starts around a fan-out.
func harnessOwned() types.GomegaMatcher {
	return createdBy([]string{"github.com/rpcfleet/rpcfleet/suites.", "github.com/rpcfleet/rpcfleet/suites/internal/spectree.", "github.com/onsi/"})
}

// connReader matches a goroutine that reads a connection a caller keeps
// open (a pool's): waiting in the network poller, or net/rpc's
// Client.input.
func connReader() types.GomegaMatcher {
	return gcustom.MakeMatcher(func(g gleak.Goroutine) (bool, error) {
		if strings.Contains(g.Backtrace, "net.(*netFD).connect") {
			return false, nil // a dial still waiting: a call not let go
		}
		return strings.HasPrefix(g.State, "IO wait") || strings.Contains(g.Backtrace, "net/rpc.(*Client).input"), nil
	})
}

// notOwnedByBackend matches the goroutines of a container backend's
// Docker client.
func notOwnedByBackend() types.GomegaMatcher { return createdBy(backendCreators()) }

// createdBy matches goroutines whose creator's name has one of prefixes.
func createdBy(prefixes []string) types.GomegaMatcher {
	return gcustom.MakeMatcher(func(g gleak.Goroutine) (bool, error) {
		for _, p := range prefixes {
			if strings.HasPrefix(g.CreatorFunction, p) {
				return true, nil
			}
		}
		return false, nil
	})
}

// fanOut runs one fan-out of e's implementation to addrs under ctx and
// returns what it observed, with the journal of the calls received since
// it started, read after the return. If FanOut
// does not return within d, the spec fails, showing the journal.
func (h *spec[A, R]) fanOut(ctx context.Context, e *env[A, R], addrs []string, d time.Duration) observed[R] {
	ginkgo.GinkgoHelper()
	return h.fanOutUnder(ctx, ctx, e.f, e.impl, addrs, d)
}

// fanOutUnder is fanOut with the fan-out's own ctx, fctx; f may be nil.
// The implementation gets a private copy of addrs.
func (h *spec[A, R]) fanOutUnder(ctx, fctx context.Context, f *fleet.Fleet, impl FanOuterOf[A, R], addrs []string, d time.Duration) observed[R] {
	ginkgo.GinkgoHelper()
	return h.run(ctx, fctx, f, impl, slices.Clone(addrs), name, d)
}

// run is the one way the specs call FanOut: with in itself (which
// concurrent fan-outs may share) and the call's Args(who). The Run's Addrs
// are a copy of in taken before the call, so a caller that rewrites its
// input is judged by what it was given.
func (h *spec[A, R]) run(ctx, fctx context.Context, f *fleet.Fleet, impl FanOuterOf[A, R], in []string, who string, d time.Duration) observed[R] {
	ginkgo.GinkgoHelper()
	args := h.call.Args(who)
	type result struct {
		outcomes []ResultOf[R]
		err      error
		panicked any
	}
	done := make(chan result, 1)
	addrs := slices.Clone(in)
	before := gleak.Goroutines()
	start := time.Now()
	go func() {
		var r result
		defer func() {
			r.panicked = recover()
			done <- r
		}()
		r.outcomes, r.err = impl.FanOut(fctx, in, args)
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case r := <-done:
		returned := time.Now()
		if r.panicked != nil {
			h.Fail(fmt.Sprintf("FanOut panicked: %v", r.panicked))
		}
		run := matchers.Run{Addrs: addrs, Results: forMatchers(r.outcomes), Err: r.err, Elapsed: returned.Sub(start), Returned: returned}
		if f != nil {
			run.Servers = f.Addrs()
			calls, err := f.Calls(ctx)
			h.Expect(err).NotTo(HaveOccurred(), "reading the fleet's journal succeeds; it failed: %v", err)
			// Only this fan-out's calls: not those of an earlier one, nor a
			// stray call from another process that dialled a port it had
			// just freed (killed a server) as this fleet took it.
			run.Calls = slices.DeleteFunc(calls, func(c fleet.Call) bool { return c.Received.Before(start) })
		}
		return observed[R]{run, r.outcomes, before}
	case <-t.C:
		msg := fmt.Sprintf("FanOut did not return within %v: it waits for a call that never ends (no timeout?) "+
			"or for a goroutine that never signals (a missed Done, a blocked send).", d)
		if f != nil {
			if calls, err := f.Calls(ctx); err == nil {
				msg += " The fleet's journal so far:\n" + matchers.JournalTable(calls, f.Addrs())
			}
		}
		h.Fail(msg)
	case <-ctx.Done():
		h.Fail("the spec ran out of time while FanOut was running")
	}
	return observed[R]{}
}

// forMatchers returns outcomes as the matchers' Results: address, error
// and latency, and the reply when it is the default call's.
func forMatchers[R any](outcomes []ResultOf[R]) []matchers.Result {
	if outcomes == nil {
		return nil
	}
	out := make([]matchers.Result, len(outcomes))
	for i, o := range outcomes {
		out[i] = matchers.Result{Addr: o.Addr, Err: o.Err, Latency: o.Latency}
		if r, ok := any(o.Reply).(fleet.Reply); ok {
			out[i].Reply = r
		}
	}
	return out
}

// inOrder checks that the run has one outcome per address, in input order
// if the implementation claims it, and returns the outcomes in input
// order.
func (h *spec[A, R]) inOrder(run observed[R]) []ResultOf[R] {
	ginkgo.GinkgoHelper()
	if h.cfg.inputOrder {
		h.Expect(run.Run).To(matchers.BeInInputOrder(nil))
		return run.outcomes
	}
	h.Expect(run.Run).To(matchers.HaveOneResultPerAddress(nil))
	pos := map[string][]int{}
	for i, a := range run.Addrs {
		pos[a] = append(pos[a], i)
	}
	out := make([]ResultOf[R], len(run.Addrs))
	for _, o := range run.outcomes {
		out[pos[o.Addr][0]] = o
		pos[o.Addr] = pos[o.Addr][1:]
	}
	return out
}

// expectReplies checks that every successful outcome carries the reply of
// the server at its address to the suite's usual name.
func (h *spec[A, R]) expectReplies(f *fleet.Fleet, addrs []string, outcomes []ResultOf[R]) {
	ginkgo.GinkgoHelper()
	h.expectRepliesTo(f, name, addrs, outcomes)
}

// expectRepliesTo checks, by the call's Check, that every successful
// outcome carries the reply of the server at its address to Args(who): a
// reply meant for another fan-out, or another server, fails it.
func (h *spec[A, R]) expectRepliesTo(f *fleet.Fleet, who string, addrs []string, outcomes []ResultOf[R]) {
	ginkgo.GinkgoHelper()
	servers := f.Addrs()
	for i, o := range outcomes {
		if o.Err != nil {
			continue
		}
		s := slices.Index(servers, addrs[i])
		h.Expect(s).To(BeNumerically(">=", 0), "outcome %d is for an address of the fleet; %s is not one of %q", i, addrs[i], servers)
		if h.cfg.hedgeMax > 0 && h.fromAny(who, servers, addrs, o.Reply) {
			continue // a backup to another replica of the fan-out may have won
		}
		err := h.call.Check(who, s, o.Reply)
		h.Expect(err).To(Succeed(), "the reply of outcome %d, for %s, is the reply of the server at that address; it is not: %v", i, addrs[i], err)
	}
}

// fromAny reports whether reply is the reply of some server of addrs to
// Args(who); servers are the fleet's addresses.
func (h *spec[A, R]) fromAny(who string, servers, addrs []string, reply R) bool {
	return slices.ContainsFunc(addrs, func(a string) bool {
		s := slices.Index(servers, a)
		return s >= 0 && h.call.Check(who, s, reply) == nil
	})
}

// beATimeout matches an error that says a call timed out, as Go reports
// it or as TimeoutIs teaches.
func (h *spec[A, R]) beATimeout() types.GomegaMatcher { return matchers.BeATimeout(h.cfg.timeoutIs...) }

// expectLetGo checks that the calls a fan-out let go are really let go:
// within a short bound of its return, no goroutine it started is still
// running but the readers of connections it keeps (in IO wait, or
// net/rpc's Client.input). Call it once the fan-out of run has returned,
// with no other fan-out running in the spec.
func (h *spec[A, R]) expectLetGo(ctx context.Context, run observed[R], why string) {
	ginkgo.GinkgoHelper()
	h.Eventually(gleak.Goroutines).WithContext(ctx).WithTimeout(h.letGo()).WithPolling(20*time.Millisecond).ShouldNot(
		matchers.HaveLeaked(run.before, notOwnedByImpl(), harnessOwned(), connReader()),
		"the fan-out returned, but goroutines it started were still running %v later: %s", h.letGo(), why)
}

// letGo is how soon after a fan-out's return the calls it let go must be
// released.
func (h *harness[A, R]) letGo() time.Duration { return time.Second + h.cfg.slack }

// expectAggregate checks the fan-out's error: nil when nothing failed;
// otherwise, if the implementation claims AggregatesErrors, an error that
// names exactly the failed addresses and matches every cause (errors.Is
// for error values, or a matcher).
func (h *spec[A, R]) expectAggregate(run observed[R], failed []string, causes ...any) {
	ginkgo.GinkgoHelper()
	if len(failed) == 0 {
		h.Expect(run.Err).NotTo(HaveOccurred(), "the fan-out returns no error when every call succeeded; it returned %s", errText(run.Err))
		return
	}
	if !h.cfg.aggregates {
		return
	}
	h.Expect(run.Err).To(HaveOccurred(), "the fan-out returns an error when %d calls failed (%s); it returned none", len(failed), strings.Join(failed, ", "))
	text := run.Err.Error()
	if h.cfg.shape == failFast {
		// A fail-fast error is the first failure's: it names that address
		// (any of the failed, whichever failed first) and none that
		// succeeded.
		h.Expect(slices.ContainsFunc(failed, func(a string) bool { return mentions(text, a) })).To(BeTrue(),
			"the fail-fast error names the address that failed first, one of %s; it names none: %q", strings.Join(failed, ", "), text)
		for _, a := range run.Addrs {
			if !slices.Contains(failed, a) {
				h.Expect(mentions(text, a)).To(BeFalse(), "the fan-out's error does not name %s, which succeeded; it does: %q", a, text)
			}
		}
	}
	for _, a := range run.Addrs {
		if h.cfg.shape == failFast {
			break // checked above
		}
		if slices.Contains(failed, a) {
			h.Expect(mentions(text, a)).To(BeTrue(), "the fan-out's error names failed address %s; it does not: %q", a, text)
		} else {
			h.Expect(mentions(text, a)).To(BeFalse(), "the fan-out's error does not name %s, which succeeded; it does: %q", a, text)
		}
	}
	for _, c := range causes {
		if m, ok := c.(types.GomegaMatcher); ok {
			h.Expect(run.Err).To(m, "the fan-out's error carries the failed calls' cause; it was %s", errText(run.Err))
			continue
		}
		h.Expect(run.Err).To(MatchError(c), "errors.Is finds the cause %q (%T) through the fan-out's error; it was %s", c, c, errText(run.Err))
	}
}

// mentions reports whether text names addr as a whole address, not as the
// prefix of a longer port.
func mentions(text, addr string) bool {
	return regexp.MustCompile(`(^|[^0-9.])` + regexp.QuoteMeta(addr) + `($|[^0-9])`).MatchString(text)
}

// errText is err for an assertion's description: its text and type, or
// "no error".
func errText(err error) string {
	if err == nil {
		return "no error"
	}
	return fmt.Sprintf("%q (%T)", err.Error(), err)
}

// outcomesText is outcomes for an assertion's description: "none", or
// each address with "ok" or its error, in order.
func outcomesText(outcomes []matchers.Result) string {
	if len(outcomes) == 0 {
		return "none"
	}
	parts := make([]string, len(outcomes))
	for i, o := range outcomes {
		parts[i] = o.Addr + ": ok"
		if o.Err != nil {
			parts[i] = fmt.Sprintf("%s: %v", o.Addr, o.Err)
		}
	}
	return strings.Join(parts, "; ")
}

// spec is a running spec: the harness, and the framework that runs the
// spec (Ginkgo or a plain subtest), whose assertions fail it.
type spec[A, R any] struct {
	*harness[A, R]
	spectree.T
}

// spec returns the spec text whose body runs with a ctx that ends after
// timeout (scaled by the slack). Before the body it registers the last
// cleanup to run: after the implementation is closed and the fleet
// stopped, no goroutine is left, and no data race was reported while the
// spec ran. The spec reports the line of its caller, not this one.
func (h *harness[A, R]) spec(text string, body func(ctx context.Context, h *spec[A, R]), timeout time.Duration) spectree.Node {
	ginkgo.GinkgoHelper()
	return spectree.It(text, h.scale(timeout), func(ctx context.Context, t spectree.T) {
		s := &spec[A, R]{h, t}
		baseline, raced := gleak.Goroutines(), races()
		s.Cleanup(func(ctx context.Context) {
			n := races() - raced
			s.Expect(n).To(BeZero(), "no data race is reported while this spec runs; %d were: see WARNING: DATA RACE in its output", n)
			s.Eventually(gleak.Goroutines).WithContext(ctx).WithTimeout(h.scale(5*time.Second)).ShouldNot(
				matchers.HaveLeaked(baseline, notOwnedByBackend()), "goroutines left after the spec")
		}, h.scale(20*time.Second))
		body(ctx, s)
	})
}

// it is spec, only when the spec applies: a behaviour the implementation
// does not claim, or the backend cannot show, is left out rather than
// skipped, so that no spec of a run is a skipped one. want names the
// option that would add it; the run reports the left-out specs once.
func (h *harness[A, R]) it(applies bool, want, text string, body func(ctx context.Context, h *spec[A, R]), timeout time.Duration) spectree.Node {
	ginkgo.GinkgoHelper()
	if applies {
		return h.spec(text, body, timeout)
	}
	h.leftOut = append(h.leftOut, leftOut{text, want})
	return spectree.Node{}
}
