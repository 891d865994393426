package mutants

import (
	"context"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// leakOnCancel collects outcomes from an unbuffered channel and returns
// as soon as ctx ends: the goroutines still calling then block forever on
// their send.
func leakOnCancel(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args) ([]suites.Result, error) {
	type result struct {
		i int
		o suites.Result
	}
	results := make(chan result) // BUG: unbuffered, and abandoned on cancel
	for i, addr := range addrs {
		go func() {
			start := time.Now()
			reply, err := call(ctx, timeout, addr, args)
			results <- result{i, suites.Result{Addr: addr, Reply: reply, Err: err, Latency: time.Since(start)}}
		}()
	}
	out := make([]suites.Result, len(addrs))
	done := make([]bool, len(addrs))
	for range addrs {
		select {
		case r := <-results:
			out[r.i], done[r.i] = r.o, true
		case <-ctx.Done():
			for i := range out {
				if !done[i] {
					out[i] = suites.Result{Addr: addrs[i], Err: ctx.Err()}
				}
			}
			return out, joinErrors(out)
		}
	}
	return out, joinErrors(out)
}
