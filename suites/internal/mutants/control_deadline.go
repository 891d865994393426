package mutants

import (
	"context"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// deadlineBounded bounds the whole fan-out by timeout with one
// context.WithTimeout: it returns once every call ended or at that
// deadline, whichever comes first, with the outcomes received by then by
// index, and ctx's error (context.DeadlineExceeded at the deadline) for
// every address still missing. Each call runs under that ctx, so the
// calls cut off end with it, and send to a channel with room for all.
func deadlineBounded(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args) ([]suites.Result, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ch := spawn(ctx, timeout, addrs, args)
	out := make([]suites.Result, len(addrs))
	got := make([]bool, len(addrs))
	for range addrs {
		select {
		case r := <-ch:
			out[r.i], got[r.i] = r.r, true
		case <-ctx.Done():
			for i, ok := range got {
				if !ok {
					out[i] = suites.Result{Addr: addrs[i], Err: ctx.Err(), Latency: time.Since(start)}
				}
			}
			return out, joinErrors(out)
		}
	}
	return out, joinErrors(out)
}

// deadlineControls are the hand-written deadline-bounded fan-outs.
func deadlineControls() []Mutant {
	return []Mutant{
		{Name: "control-deadline", Shape: "DeadlineBounded", Bug: "none: one context.WithTimeout over the fan-out, outcomes by index, the missing ones ctx's error",
			New: outcomes(deadlineBounded), Claims: []suites.Option{suites.DeadlineBounded(), suites.HonoursCancel(), suites.KeepsInputOrder(), suites.AggregatesErrors()}},
	}
}
