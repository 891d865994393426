package peers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sourcegraph/conc/pool"
	"golang.org/x/sync/errgroup"

	"github.com/rpcfleet/rpcfleet/fleet"
)

// Result is the outcome of one address of a fan-out.
type Result struct {
	Addr    string
	Reply   fleet.Reply // the zero value if Err is not nil
	Err     error
	Latency time.Duration // from the fan-out's start to the call's end
}

// Errgroup fans Service.Method out with an errgroup.Group: a goroutine per
// address (g.Go), each a Client.Go on its pooled connection and a select
// on ctx, results by index, every call bounded by one deadline, the
// timeout after the fan-out's start. Its goroutines return nil, so that
// Wait waits for every call rather than the first error; the fan-out's
// error joins every failed call's, in input order. Close it when done;
// FanOut is safe for concurrent use.
type Errgroup struct {
	pool    *Pool
	timeout time.Duration
}

// NewErrgroup returns an Errgroup whose calls time out after timeout.
func NewErrgroup(timeout time.Duration) *Errgroup {
	return &Errgroup{pool: NewPool(), timeout: timeout}
}

// FanOut calls every address at once and returns one Result per address,
// in input order, when every call has ended.
func (e *Errgroup) FanOut(ctx context.Context, addrs []string, args fleet.Args) ([]Result, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	results := make([]Result, len(addrs))
	var g errgroup.Group
	for i, addr := range addrs {
		g.Go(func() error {
			reply, err := e.pool.Call(ctx, addr, args)
			results[i] = Result{Addr: addr, Reply: reply, Err: err, Latency: time.Since(start)}
			return nil
		})
	}
	g.Wait() // every goroutine returns nil
	return results, join(results)
}

// Close closes the pooled connections.
func (e *Errgroup) Close() error { return e.pool.Close() }

// Conc fans Service.Method out with a conc pool (pool.New(), no limit on
// its goroutines, which it reuses as tasks end): a task per address, each
// a Client.Go on its pooled connection and a select on ctx, results by
// index, every call bounded by one deadline, the timeout after the
// fan-out's start. The fan-out's error joins every failed call's, in
// input order. Close it when done; FanOut is safe for concurrent use.
type Conc struct {
	pool    *Pool
	timeout time.Duration
}

// NewConc returns a Conc whose calls time out after timeout.
func NewConc(timeout time.Duration) *Conc {
	return &Conc{pool: NewPool(), timeout: timeout}
}

// FanOut calls every address at once and returns one Result per address,
// in input order, when every call has ended.
func (c *Conc) FanOut(ctx context.Context, addrs []string, args fleet.Args) ([]Result, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	results := make([]Result, len(addrs))
	p := pool.New()
	for i, addr := range addrs {
		p.Go(func() {
			reply, err := c.pool.Call(ctx, addr, args)
			results[i] = Result{Addr: addr, Reply: reply, Err: err, Latency: time.Since(start)}
		})
	}
	p.Wait()
	return results, join(results)
}

// Close closes the pooled connections.
func (c *Conc) Close() error { return c.pool.Close() }

// join joins the errors of the failed calls, each prefixed with its
// address, in input order; nil if none failed.
func join(results []Result) error {
	var errs []error
	for _, r := range results {
		if r.Err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", r.Addr, r.Err))
		}
	}
	return errors.Join(errs...)
}
