package mutants

import (
	"context"
	"sync"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// resultsByAddress collects outcomes in a map keyed by address, under a
// lock, and reads them back in input order: an address given twice gets
// one call's outcome twice.
func resultsByAddress(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args) ([]suites.Result, error) {
	var (
		mu   sync.Mutex
		byAd = make(map[string]suites.Result, len(addrs)) // BUG: one slot per address, not per call
		wg   sync.WaitGroup
	)
	for _, addr := range addrs {
		wg.Go(func() {
			start := time.Now()
			reply, err := call(ctx, timeout, addr, args)
			mu.Lock()
			byAd[addr] = suites.Result{Addr: addr, Reply: reply, Err: err, Latency: time.Since(start)}
			mu.Unlock()
		})
	}
	wg.Wait()
	out := make([]suites.Result, len(addrs))
	for i, addr := range addrs {
		out[i] = byAd[addr]
	}
	return out, joinErrors(out)
}
