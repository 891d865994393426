package mutants

import (
	"context"
	"sync"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// cancelClobbers reports every call as failed when ctx ended during the
// fan-out, including calls whose replies had already come.
func cancelClobbers(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args) ([]suites.Result, error) {
	out := make([]suites.Result, len(addrs))
	var wg sync.WaitGroup
	for i, addr := range addrs {
		wg.Go(func() {
			start := time.Now()
			reply, err := call(ctx, timeout, addr, args)
			out[i] = suites.Result{Addr: addr, Reply: reply, Err: err, Latency: time.Since(start)}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		for i := range out {
			out[i].Err = err // BUG: also the calls answered before the cancel
		}
	}
	return out, joinErrors(out)
}
