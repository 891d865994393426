package experiment

import (
	"context"
	"errors"
	"fmt"

	"github.com/rpcfleet/rpcfleet/caller"
	"github.com/rpcfleet/rpcfleet/fleet"
)

// FanOut is a fan-out under test, adapted to the runner: it calls the
// servers at addrs the way the code under test does and returns nil when
// the fan-out succeeded, else its error. The runner calls it from
// Scenario.InFlight goroutines at once, so it must be safe for concurrent
// use. ctx carries the scenario's Timeout as its deadline and ends early
// when the run is interrupted; the fan-out must return soon after ctx
// ends, since Run waits for every fan-out it started.
//
// The error is counted by kind (timeout, error-reply, refused, reset,
// connection-lost, cancelled, other) as the reference caller's failed
// calls are: an error that joins several (errors.Join, or any error with
// an Unwrap() []error method, wrapped or not) counts once per joined
// error, a single error once.
type FanOut func(ctx context.Context, addrs []string) error

// Option changes what Run runs beside, and against, a scenario's
// strategies.
type Option func(*config)

type config struct {
	fanOuts []namedFanOut
	fleet   []fleet.Option
	call    call
}

type namedFanOut struct {
	name string
	fn   FanOut
}

// call is one fan-out of the reference caller, counted for the report.
type call func(ctx context.Context, c *caller.Caller, addrs []string) outcome

// outcome is what one fan-out did, as the report counts it.
type outcome struct {
	err  error   // nil: the fan-out succeeded
	sent int     // calls sent, retries and hedges included
	errs []error // failed calls, each counted by kind
}

// WithFanOut runs fn, under name, beside the scenario's strategies: on a
// fleet of its own with the scenario's seed and faults, for the same
// rounds or duration, and reported after them as one more result named
// name. Give it several times to compare several fan-outs. The runner
// cannot see fn's calls one by one: its Result's Sent is its Calls, and
// its Errors count fn's errors, not its calls'.
func WithFanOut(name string, fn FanOut) Option {
	return func(c *config) { c.fanOuts = append(c.fanOuts, namedFanOut{name, fn}) }
}

// WithFleet adds options to every fleet the run starts, e.g.
// fleet.WithService("KV", kv.New) to serve a receiver of yours. The
// scenario's own settings (servers, seed, faults, backend) are applied
// after them and win.
func WithFleet(opts ...fleet.Option) Option {
	return func(c *config) { c.fleet = append(c.fleet, opts...) }
}

// WithCall makes the scenario's strategies call method with args, with
// replies of type R, instead of the default Service.Method with
// fleet.Args{Name: "experiment"}: for instance
// WithCall[kv.GetArgs, kv.GetReply]("KV.Get", kv.GetArgs{Key: "k"}).
// A and R are as caller.FanOut takes them.
func WithCall[A, R any](method string, args A) Option {
	return func(c *config) { c.call = callOf[A, R](method, args) }
}

func callOf[A, R any](method string, args A) call {
	return func(ctx context.Context, c *caller.Caller, addrs []string) outcome {
		results, err := caller.FanOut[A, R](ctx, c, addrs, method, args)
		o := outcome{err: err}
		for _, r := range results {
			o.sent += r.Attempts
			// Calls the strategy cancelled (quorum reached, fail-fast)
			// are not failures of their servers.
			if r.Err != nil && !errors.Is(r.Err, caller.ErrCancelled) {
				o.errs = append(o.errs, r.Err)
			}
		}
		return o
	}
}

// newConfig applies opts over the defaults and checks the fan-outs; their
// names are checked against the strategies' by Scenario.check.
func newConfig(opts []Option) (*config, error) {
	c := &config{call: callOf[fleet.Args, fleet.Reply]("Service.Method", fleet.Args{Name: "experiment"})}
	for _, o := range opts {
		o(c)
	}
	for _, f := range c.fanOuts {
		switch {
		case f.name == "":
			return nil, errors.New("experiment: WithFanOut: want a name")
		case f.fn == nil:
			return nil, fmt.Errorf("experiment: WithFanOut %q: want a fan-out, got nil", f.name)
		}
	}
	return c, nil
}

// names are the names of the fan-outs, for Scenario.check.
func (c *config) names() []string {
	var out []string
	for _, f := range c.fanOuts {
		out = append(out, f.name)
	}
	return out
}

// leaves splits an error that joins several into them, at any depth of
// wrapping; any other error is one.
func leaves(err error) []error {
	for e := err; e != nil; {
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			var out []error
			for _, x := range u.Unwrap() {
				if x != nil {
					out = append(out, leaves(x)...)
				}
			}
			if len(out) == 0 {
				return []error{err}
			}
			return out
		case interface{ Unwrap() error }:
			e = u.Unwrap()
		default:
			e = nil
		}
	}
	return []error{err}
}
