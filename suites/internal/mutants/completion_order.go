package mutants

import (
	"context"
	"sync"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// completionOrder appends each outcome, under a lock, as its call ends:
// the outcomes come back in completion order, not input order.
func completionOrder(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args) ([]suites.Result, error) {
	var (
		mu  sync.Mutex
		out []suites.Result
		wg  sync.WaitGroup
	)
	for _, addr := range addrs {
		wg.Go(func() {
			start := time.Now()
			reply, err := call(ctx, timeout, addr, args)
			mu.Lock()
			out = append(out, suites.Result{Addr: addr, Reply: reply, Err: err, Latency: time.Since(start)}) // BUG: order of completion
			mu.Unlock()
		})
	}
	wg.Wait()
	return out, joinErrors(out)
}
