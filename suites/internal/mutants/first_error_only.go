package mutants

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// firstErrorOnly keeps the first failed call's error as the fan-out's
// error, as errgroup.Group does: the other failed addresses go unnamed.
func firstErrorOnly(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args) ([]suites.Result, error) {
	out := make([]suites.Result, len(addrs))
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for i, addr := range addrs {
		wg.Go(func() {
			start := time.Now()
			reply, err := call(ctx, timeout, addr, args)
			out[i] = suites.Result{Addr: addr, Reply: reply, Err: err, Latency: time.Since(start)}
			if err != nil {
				once.Do(func() { first = fmt.Errorf("%s: %w", addr, err) }) // BUG: the others are dropped
			}
		})
	}
	wg.Wait()
	return out, first
}
