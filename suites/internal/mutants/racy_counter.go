package mutants

import (
	"context"
	"sync"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// racyCounter is the outcomes control plus a count of calls left, kept
// for a progress log without a lock: every result is right, and only the
// race detector sees the bug.
func racyCounter(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args) ([]suites.Result, error) {
	out := make([]suites.Result, len(addrs))
	left := len(addrs)
	var wg sync.WaitGroup
	for i, addr := range addrs {
		wg.Go(func() {
			start := time.Now()
			reply, err := call(ctx, timeout, addr, args)
			out[i] = suites.Result{Addr: addr, Reply: reply, Err: err, Latency: time.Since(start)}
			left-- // BUG: a data race
		})
	}
	wg.Wait()
	_ = left
	return out, joinErrors(out)
}
