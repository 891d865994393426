package mutants

import (
	"context"
	"sync"
	"time"

	"github.com/rpcfleet/rpcfleet/examples/kv/kv"
)

// nextShard counts its addresses from 1 and wraps round, an off-by-one:
// the key meant for addrs[i] goes to addrs[i+1], the next shard, whose
// value (or error) is reported for addrs[i].
func nextShard(ctx context.Context, timeout time.Duration, addrs []string, args kv.GetArgs) ([]getResult, error) {
	out := make([]getResult, len(addrs))
	var wg sync.WaitGroup
	for i := 1; i <= len(addrs); i++ {
		target := addrs[i%len(addrs)] // BUG: addrs[i-1]'s key, sent to the next address
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			reply, err := get(ctx, timeout, target, args, false)
			out[i-1] = getResult{Addr: addrs[i-1], Reply: reply, Err: err, Latency: time.Since(start)}
		}()
	}
	wg.Wait()
	return out, joinGetErrors(out)
}
