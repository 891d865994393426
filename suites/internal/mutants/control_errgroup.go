package mutants

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// errgroupFailFast is the fail-fast fan-out of golang.org/x/sync/errgroup
// as its documentation shows it: errgroup.WithContext, a goroutine per
// address writing its outcome by index, and the first error, which names
// its address, cancelling the rest. Wait returns that first error: the
// calls it cancelled end with context.Canceled, after it was recorded.
func errgroupFailFast(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args) ([]suites.Result, error) {
	out := make([]suites.Result, len(addrs))
	g, gctx := errgroup.WithContext(ctx)
	for i, addr := range addrs {
		g.Go(func() error {
			start := time.Now()
			reply, err := call(gctx, timeout, addr, args)
			out[i] = suites.Result{Addr: addr, Reply: reply, Err: err, Latency: time.Since(start)}
			if err != nil {
				return fmt.Errorf("%s: %w", addr, err)
			}
			return nil
		})
	}
	err := g.Wait()
	return out, err
}

// errgroupBounded is a wait-for-all fan-out with at most limit calls in
// flight, with errgroup's SetLimit: Go blocks until a slot is free, and
// each call's timeout starts in its goroutine, from its slot. No call
// returns an error to the group, so none cancels another: the outcomes
// are by index and the error joins every failed call's. A cancelled ctx
// ends the calls in flight at once, and those not started yet fail at
// once, so the wait for a slot ends promptly too.
func errgroupBounded(limit int) outcomesFunc {
	return func(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args) ([]suites.Result, error) {
		out := make([]suites.Result, len(addrs))
		var g errgroup.Group
		g.SetLimit(limit)
		for i, addr := range addrs {
			g.Go(func() error {
				start := time.Now()
				reply, err := call(ctx, timeout, addr, args)
				out[i] = suites.Result{Addr: addr, Reply: reply, Err: err, Latency: time.Since(start)}
				return nil
			})
		}
		g.Wait()
		return out, joinErrors(out)
	}
}

// errgroupControls are the errgroup fan-outs.
func errgroupControls() []Mutant {
	return []Mutant{
		{Name: "control-errgroup-fail-fast", Shape: "FailFast", Bug: "none: errgroup.WithContext, outcomes by index, the first error (naming its address) cancelling the rest",
			New: outcomes(errgroupFailFast), Claims: append(fullClaims(), suites.FailFast())},
		{Name: "control-errgroup-bounded", Shape: "Bounded(4)", Bug: "none: errgroup with SetLimit(4), outcomes by index, errors joined, waiting for all",
			New: outcomes(errgroupBounded(refConcurrency)), Claims: append(fullClaims(), suites.Bounded(refConcurrency))},
	}
}
