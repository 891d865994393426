package mutants

import (
	"context"
	"sync"
	"time"

	"github.com/rpcfleet/rpcfleet/examples/kv/kv"
)

// repliesInArrivalOrder writes each call's error by index, but its reply
// in the order replies arrive: with servers of different speeds, server
// j's value is reported for server i.
func repliesInArrivalOrder(ctx context.Context, timeout time.Duration, addrs []string, args kv.GetArgs) ([]getResult, error) {
	out := make([]getResult, len(addrs))
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		arrived int
	)
	for i, addr := range addrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			reply, err := get(ctx, timeout, addr, args, false)
			mu.Lock()
			defer mu.Unlock()
			out[i].Addr, out[i].Err, out[i].Latency = addr, err, time.Since(start)
			out[arrived].Reply = reply // BUG: the arrival's slot, not the address's
			arrived++
		}()
	}
	wg.Wait()
	return out, joinGetErrors(out)
}
