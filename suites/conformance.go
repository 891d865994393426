package suites

import (
	"context"
	"errors"
	"fmt"
	"net"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/rpcfleet/rpcfleet/caller"
	"github.com/rpcfleet/rpcfleet/fleet"
)

// Call is the call every fan-out of a conformance run makes, with A its
// args and R its reply: which method, the receiver that serves it, the
// args of one fan-out and how to tell server i's reply to them from any
// other. ServiceMethod is the default service's; for a service of your
// own, see ConformanceOf. A Call holds no resources; its functions are
// called from concurrent specs and fan-outs, so they must be safe for
// concurrent use.
type Call[A, R any] struct {
	// Method is the method fanned out to, as net/rpc names it: "KV.Get".
	// The suite only tells its implementations: they call it.
	Method string
	// Service starts Method's receiver on every server of each fleet the
	// suite starts, e.g. fleet.WithService("KV", kv.New); nil when the
	// fleets serve it already (Service.Method, or a container image of
	// your own server main).
	Service fleet.Option
	// Args are the args of a fan-out named who. Concurrent fan-outs of a
	// spec have different names: args that differ with who let a reply
	// meant for another fan-out fail by its value.
	Args func(who string) A
	// Check returns an error unless reply is the one server (its index in
	// the fleet) gives to Args(who); Want builds one from the expected
	// reply.
	Check func(who string, server int, reply R) error
}

// Want returns a Call's Check that compares a reply with want(who,
// server) by reflect.DeepEqual.
func Want[R any](want func(who string, server int) R) func(who string, server int, reply R) error {
	return func(who string, server int, reply R) error {
		if w := want(who, server); !reflect.DeepEqual(reply, w) {
			return fmt.Errorf("suites: got reply %+v, want server %d's reply to %q, %+v", reply, server, who, w)
		}
		return nil
	}
}

// ServiceMethod is the call of Conformance: Service.Method, which every
// fleet server registers, with Args{Name: who}, replying with the
// greeting of fleet.Greeting. The greeting's address is not checked, as
// inside a container it is not the one dialled.
func ServiceMethod() Call[fleet.Args, fleet.Reply] {
	return Call[fleet.Args, fleet.Reply]{
		Method: "Service.Method",
		Args:   func(who string) fleet.Args { return fleet.Args{Name: who} },
		Check: func(who string, server int, reply fleet.Reply) error {
			if want := fmt.Sprintf("Hello, %s! (server %d at ", who, server); !strings.HasPrefix(reply.Message, want) {
				return fmt.Errorf("suites: got reply %q, want server %d's greeting to %q, %q…", reply.Message, server, who, want)
			}
			return nil
		},
	}
}

// FanOuterOf is a fan-out implementation under test: FanOut sends one
// call with args to every address, under ctx, and returns one result per
// address: when every call has ended, or when its shape says (a quorum, a
// first success, a first failure, a deadline: see Quorum and the other
// shape claims), the calls it let go with an error. Its error is the
// fan-out's own, nil when every call succeeded (or its quorum did).
//
// FanOut must be safe for concurrent use. An implementation that holds
// resources across fan-outs (a connection pool) also has a Close method,
// found by type assertion: the conformance suite calls it at the end of
// every spec and then expects every goroutine and connection the
// implementation opened to be gone.
type FanOuterOf[A, R any] interface {
	FanOut(ctx context.Context, addrs []string, args A) ([]ResultOf[R], error)
}

// FanOuter is a FanOuterOf the default call, Service.Method.
type FanOuter = FanOuterOf[fleet.Args, fleet.Reply]

// ResultOf is what a fan-out reported for the call to one address: its
// address, reply or error, and latency (0 if not measured). The matchers
// of suites/matchers take a slice of them.
type ResultOf[R any] struct {
	Addr    string        // the address called
	Reply   R             // the reply; meaningful only when Err is nil
	Err     error         // nil if the call succeeded
	Latency time.Duration // how long the call took; 0 if not measured
}

// Result is a ResultOf the default call's reply.
type Result = ResultOf[fleet.Reply]

// ResultsOf returns one result per address, result i for addrs[i] with the
// reply and error get(i) returns for it: the adapter of a fan-out whose
// own results are by index. get is called for every index of addrs, so it
// must answer for each, also when the fan-out returned fewer results.
func ResultsOf[R any](addrs []string, get func(i int) (R, error)) []ResultOf[R] {
	out := make([]ResultOf[R], len(addrs))
	for i, a := range addrs {
		out[i].Addr = a
		out[i].Reply, out[i].Err = get(i)
	}
	return out
}

// FanOutFuncOf adapts a function to FanOuterOf.
type FanOutFuncOf[A, R any] func(ctx context.Context, addrs []string, args A) ([]ResultOf[R], error)

// FanOut calls f.
func (f FanOutFuncOf[A, R]) FanOut(ctx context.Context, addrs []string, args A) ([]ResultOf[R], error) {
	return f(ctx, addrs, args)
}

// FanOutFunc is a FanOutFuncOf the default call.
type FanOutFunc = FanOutFuncOf[fleet.Args, fleet.Reply]

// Closing returns a FanOuterOf that fans out with fanOut and whose Close
// calls close: the way to hand the suite a function-shaped caller that
// keeps connections between fan-outs (a pool), so that the suite closes it
// at the end of every spec before it looks for leaked goroutines and
// connections.
func Closing[A, R any](fanOut FanOutFuncOf[A, R], close func() error) FanOuterOf[A, R] {
	return closing[A, R]{fanOut, close}
}

type closing[A, R any] struct {
	FanOutFuncOf[A, R]
	close func() error
}

// Close calls the function given to Closing.
func (c closing[A, R]) Close() error { return c.close() }

// ReportFuncOf records, from the goroutine of one address's call, how that
// call ended. It is safe for concurrent use.
type ReportFuncOf[R any] func(addr string, reply R, err error)

// ReportFunc is a ReportFuncOf the default call's reply.
type ReportFunc = ReportFuncOf[fleet.Reply]

// ErrNoReport is the error of an outcome whose address a SeedStyle fan-out
// never reported before it returned.
var ErrNoReport = errors.New("suites: no report for this address before the fan-out returned")

// SeedStyle adapts a fan-out of Service.Method written in the seed
// article's style; see SeedStyleOf.
func SeedStyle(fanOut func(ctx context.Context, addrs []string, args fleet.Args, report ReportFunc) error) FanOuter {
	return SeedStyleOf(fanOut)
}

// SeedStyleOf adapts a fan-out written in the seed article's style: one
// goroutine per address, a sync.WaitGroup, nothing returned, the results
// left as side effects. Its side effect is report, called once per
// address, from any goroutine, before fanOut returns. Its error is the
// fan-out's own (a quorum not reached, say; nil if it has none), which
// FanOut returns.
//
// The FanOuterOf orders outcomes by address in input order (the same
// address twice takes its reports in turn) and times each from the start
// of the fan-out to its report. An address not reported by the return
// gets ErrNoReport (for a shape that returns early, the outcome of a
// call it let go); a report after the return is ignored (the suite's
// journal checks see such a fan-out return too early); a report for an
// address not called, or reported again, is joined to FanOut's error.
// It is safe for concurrent use if fanOut is.
func SeedStyleOf[A, R any](fanOut func(ctx context.Context, addrs []string, args A, report ReportFuncOf[R]) error) FanOuterOf[A, R] {
	return FanOutFuncOf[A, R](func(ctx context.Context, addrs []string, args A) ([]ResultOf[R], error) {
		start := time.Now()
		index := make(map[string][]int, len(addrs))
		for i, a := range addrs {
			index[a] = append(index[a], i)
		}
		outcomes := make([]ResultOf[R], len(addrs))
		var (
			mu       sync.Mutex
			returned bool
			bad      []error
		)
		report := func(addr string, reply R, err error) {
			mu.Lock()
			defer mu.Unlock()
			if returned {
				return
			}
			left := index[addr]
			if len(left) == 0 {
				bad = append(bad, fmt.Errorf("suites: report for %s, which was not called or was reported already", addr))
				return
			}
			index[addr] = left[1:]
			outcomes[left[0]] = ResultOf[R]{Addr: addr, Reply: reply, Err: err, Latency: time.Since(start)}
		}
		own := fanOut(ctx, addrs, args, report)
		mu.Lock()
		defer mu.Unlock()
		returned = true
		for _, left := range index {
			for _, i := range left {
				outcomes[i] = ResultOf[R]{Addr: addrs[i], Err: ErrNoReport}
			}
		}
		return outcomes, errors.Join(append([]error{own}, bad...)...)
	})
}

// Reference returns the reference caller c as a FanOuter; its Close
// closes c.
func Reference(c *caller.Caller) FanOuter { return reference{c} }

type reference struct{ c *caller.Caller }

func (r reference) FanOut(ctx context.Context, addrs []string, args fleet.Args) ([]Result, error) {
	results, err := caller.FanOut[fleet.Args, fleet.Reply](ctx, r.c, addrs, "Service.Method", args)
	out := make([]Result, len(results))
	for i, res := range results {
		out[i] = Result{Addr: res.Addr, Reply: res.Reply, Err: res.Err, Latency: res.Latency}
	}
	return out, err
}

func (r reference) Close() error { return r.c.Close() }

// Option configures Conformance and ConformanceOf: the behaviours the implementation claims,
// and the fleet the specs run against.
type Option func(*config)

type config struct {
	timesOut   bool
	cancels    bool
	inputOrder bool
	aggregates bool

	start     func(ctx context.Context, opts ...fleet.Option) (*fleet.Fleet, error)
	fleetOpts []fleet.Option
	large     int
	slack     time.Duration
	noConns   bool    // the backend cannot count its open connections
	virtual   *Dialer // non-nil: fleets in memory, specs in synctest bubbles
	ownStart  bool    // start is WithFleet's

	// The shape claims (shapes.go).
	shape         shape
	shapeClaim    string
	quorum        func(n int) int // quorum and first success: successes needed of n
	bound         int             // Bounded: calls in flight, 0 unbounded
	hedgeDelay    time.Duration   // Hedged
	hedgeMax      int
	attempts      int // Retries: calls per address, 0 no retries
	notConcurrent bool
	timeoutIs     []func(error) bool

	bad []string // claims that make no sense, each named
}

func defaults() config {
	return config{start: fleet.Start, large: 1000, slack: time.Second}
}

// TimesOut claims that the implementation bounds every call by the
// timeout it was built with (the argument of Conformance's newImpl): a
// call to a hanging or slow server fails with a timeout as Go reports one
// (an error matching context.DeadlineExceeded or os.ErrDeadlineExceeded,
// or a net.Error whose Timeout() is true: see matchers.IsTimeout, and
// TimeoutIs for other RPC systems), about that long after the fan-out
// started, and the other calls are unaffected. Specs of timeouts build it with 2s,
// others with a generous 20s (times the slack's seconds).
func TimesOut() Option { return func(c *config) { c.timesOut = true } }

// HonoursCancel claims that when ctx ends the fan-out returns promptly,
// every unfinished call failing with an error that errors.Is ctx's error,
// and leaves no goroutine behind.
func HonoursCancel() Option { return func(c *config) { c.cancels = true } }

// KeepsInputOrder claims that outcome i is the outcome for addrs[i].
// Without it, outcomes are matched to addresses by their Addr, in any
// order. (SeedStyle always orders them.)
func KeepsInputOrder() Option { return func(c *config) { c.inputOrder = true } }

// AggregatesErrors claims that the fan-out's error is nil exactly when
// every call succeeded, that its message names exactly the failed
// addresses, and that errors.Is and errors.As find every call's cause
// through it (an rpc.ServerError, syscall.ECONNREFUSED, ctx's error).
func AggregatesErrors() Option { return func(c *config) { c.aggregates = true } }

// WithFleet sets how each spec starts its fleet (default fleet.Start). The
// suite passes the servers, the seed (Ginkgo's random seed) and the
// options of WithFleetOptions; start may add its own, such as
// fleet.WithBackend with a backend built in a BeforeSuite. The suite stops
// every fleet it starts.
func WithFleet(start func(ctx context.Context, opts ...fleet.Option) (*fleet.Fleet, error)) Option {
	return func(c *config) {
		if start == nil {
			c.bad = append(c.bad, "suites.WithFleet(nil): give the function that starts each spec's fleet, or leave the option out for fleet.Start")
			return
		}
		c.start, c.ownStart = start, true
	}
}

// WithFleetOptions adds opts to every fleet the suite starts, e.g.
// fleet.WithBackend(b) to run the specs on another backend.
func WithFleetOptions(opts ...fleet.Option) Option {
	return func(c *config) { c.fleetOpts = append(c.fleetOpts, opts...) }
}

// WithLargeFanOut sets the number of servers of the one large fan-out
// (default 1,000); 0 leaves that spec out. Other specs use at most 50
// servers.
func WithLargeFanOut(n int) Option { return func(c *config) { c.large = n } }

// WithoutConnCount leaves out the spec that checks the fleet's open
// connections return to their baseline, for backends that cannot count
// them (fleet/container). Goroutine leaks are still checked.
func WithoutConnCount() Option { return func(c *config) { c.noConns = true } }

// WithSlack sets the unit of lateness (default 1s): an upper bound on a
// duration d is checked as d plus three slacks, so that a busy machine or
// a slow backend does not fail a spec; fan-outs that should be quick may
// take 4s plus one slack; spec timeouts grow with it.
func WithSlack(d time.Duration) Option { return func(c *config) { c.slack = d } }

// InVirtualTime runs every spec inside a testing/synctest bubble, on
// fleets on the in-memory transport (fleet.WithMemory), so that time is
// virtual: it advances only when every goroutine of the spec is blocked,
// a 20s hang takes no wall time, and no timing bound can flake on a busy
// machine. The implementation must reach the fleets through d, which
// dials the fleet of the spec that is running: give d.Dial to your caller
// (caller.WithDialer(d.Dial)); a caller that dials TCP itself cannot join
// a bubble. Only Run and RunOf can: Ginkgo cannot host a bubble
// (onsi/ginkgo#1601), so under Conformance the suite is one failing spec
// that says so. Not with WithFleet (RunOf fails at once), nor with
// WithFleetOptions that the in-memory transport refuses (ports, unix
// sockets, control).
func InVirtualTime(d *Dialer) Option { return func(c *config) { c.virtual = d } }

// Dialer dials the fleet of the conformance spec that is running, for an
// implementation under InVirtualTime. The zero Dialer is ready to use; the
// suite points it at each spec's fleet in turn. It is safe for concurrent
// use.
type Dialer struct {
	mu sync.Mutex
	f  *fleet.Fleet
}

// Dial connects to addr on the current spec's fleet (see fleet.Fleet.Dial).
// It has the type caller.WithDialer takes. The caller closes the
// connection.
func (d *Dialer) Dial(ctx context.Context, addr string) (net.Conn, error) {
	d.mu.Lock()
	f := d.f
	d.mu.Unlock()
	if f == nil {
		return nil, fmt.Errorf("suites: Dialer: no fleet to dial %s: the spec has started none", addr)
	}
	return f.Dial(ctx, addr)
}

// point makes d dial f.
func (d *Dialer) point(f *fleet.Fleet) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.f = f
}
