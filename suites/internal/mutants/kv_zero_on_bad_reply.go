package mutants

import (
	"context"
	"sync"
	"time"

	"github.com/rpcfleet/rpcfleet/examples/kv/kv"
)

// zeroOnBadReply treats a call that ends in anything but the server's own
// error reply (a reply that does not decode, a dropped connection) as a
// key with no value: the zero reply, reported as success.
func zeroOnBadReply(ctx context.Context, timeout time.Duration, addrs []string, args kv.GetArgs) ([]getResult, error) {
	out := make([]getResult, len(addrs))
	var wg sync.WaitGroup
	for i, addr := range addrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			reply, err := get(ctx, timeout, addr, args, true) // BUG: see get
			out[i] = getResult{Addr: addr, Reply: reply, Err: err, Latency: time.Since(start)}
		}()
	}
	wg.Wait()
	return out, joinGetErrors(out)
}
