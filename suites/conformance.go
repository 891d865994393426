package suites

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rpcfleet/rpcfleet/caller"
	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites/matchers"
)

// FanOuter is a fan-out implementation under test: FanOut sends one call
// of Service.Method with args to every address at once, under ctx, and
// returns one Result per address when every call has ended. Its error is
// the fan-out's own, nil when every call succeeded.
//
// FanOut must be safe for concurrent use. An implementation that holds
// resources across fan-outs (a connection pool) also has a Close method,
// found by type assertion: the conformance suite calls it at the end of
// every spec and then expects every goroutine and connection the
// implementation opened to be gone.
type FanOuter interface {
	FanOut(ctx context.Context, addrs []string, args fleet.Args) ([]Result, error)
}

// Result is what a fan-out reported for the call to one address: its
// address, reply or error, and latency (0 if not measured).
type Result = matchers.Result

// FanOutFunc adapts a function to FanOuter.
type FanOutFunc func(ctx context.Context, addrs []string, args fleet.Args) ([]Result, error)

// FanOut calls f.
func (f FanOutFunc) FanOut(ctx context.Context, addrs []string, args fleet.Args) ([]Result, error) {
	return f(ctx, addrs, args)
}

// Closing returns a FanOuter that fans out with fanOut and whose Close
// calls close: the way to hand the suite a function-shaped caller that
// keeps connections between fan-outs (a pool), so that the suite closes it
// at the end of every spec before it looks for leaked goroutines and
// connections.
func Closing(fanOut FanOutFunc, close func() error) FanOuter { return closing{fanOut, close} }

type closing struct {
	FanOutFunc
	close func() error
}

// Close calls the function given to Closing.
func (c closing) Close() error { return c.close() }

// ReportFunc records, from the goroutine of one address's call, how that call
// ended. It is safe for concurrent use.
type ReportFunc func(addr string, reply fleet.Reply, err error)

// ErrNoReport is the error of an outcome whose address a SeedStyle fan-out
// never reported before it returned.
var ErrNoReport = errors.New("suites: no report for this address before the fan-out returned")

// SeedStyle adapts a fan-out written in the seed article's style: one
// goroutine per address, a sync.WaitGroup, nothing returned, the results
// left as side effects. Its side effect is report, called once per
// address, from any goroutine, before fanOut returns.
//
// The FanOuter orders outcomes by address in input order (the same
// address twice takes its reports in turn) and times each from the start
// of the fan-out to its report. An address not reported by the return
// gets ErrNoReport; a report after the return is ignored (the suite's
// journal checks see such a fan-out return too early); a report for an
// address not called, or reported again, makes FanOut return an error.
func SeedStyle(fanOut func(ctx context.Context, addrs []string, args fleet.Args, report ReportFunc)) FanOuter {
	return FanOutFunc(func(ctx context.Context, addrs []string, args fleet.Args) ([]Result, error) {
		start := time.Now()
		index := make(map[string][]int, len(addrs))
		for i, a := range addrs {
			index[a] = append(index[a], i)
		}
		outcomes := make([]Result, len(addrs))
		var (
			mu       sync.Mutex
			returned bool
			bad      []error
		)
		report := func(addr string, reply fleet.Reply, err error) {
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
			outcomes[left[0]] = Result{Addr: addr, Reply: reply, Err: err, Latency: time.Since(start)}
		}
		fanOut(ctx, addrs, args, report)
		mu.Lock()
		defer mu.Unlock()
		returned = true
		for _, left := range index {
			for _, i := range left {
				outcomes[i] = Result{Addr: addrs[i], Err: ErrNoReport}
			}
		}
		return outcomes, errors.Join(bad...)
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

// Option configures Conformance: the behaviours the implementation claims,
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
	noConns   bool // the backend cannot count its open connections
}

func defaults() config {
	return config{start: fleet.Start, large: 1000, slack: time.Second}
}

// TimesOut claims that the implementation bounds every call by the
// timeout it was built with (the argument of Conformance's newImpl): a
// call to a hanging or slow server fails with an error that errors.Is
// context.DeadlineExceeded, about that long after the fan-out started, and
// the other calls are unaffected. Specs of timeouts build it with 2s,
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
	return func(c *config) { c.start = start }
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
