package mutants

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// retryOffByOne retries a failed call (an error reply, a refused dial, a
// dropped connection; not its own timeout, not ctx's end) after a short
// backoff, up to its bound of three attempts, but counts the retries
// against it rather than the calls: the first call plus three retries, so
// a replica that always fails gets four calls where three are claimed.
//
// Max attempts read as max retries is failsafe-go/failsafe-go#22
// (WithMaxAttempts(4) calling the function 5 times),
// OpenNSWM-Lab/FAROS#120 ("while retries <= MAX_RETRIES ... executes four
// attempts"), sourcegraph/sourcegraph-public-snapshot#23717 ("the logic
// for checking if we reached the max retries had an off by one bug") and
// tim-kos/node-retry#21; gRPC's retry policy defines maxAttempts as
// counting the original call (gRFC A6, grpc/proposal#37).
func retryOffByOne(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args) ([]suites.Result, error) {
	const attempts, backoff = 3, 10 * time.Millisecond // as claimed: suites.Retries(3)
	out := make([]suites.Result, len(addrs))
	var wg sync.WaitGroup
	for i, addr := range addrs {
		wg.Go(func() {
			start := time.Now()
			reply, err := call(ctx, timeout, addr, args)
			for retry := 1; retry <= attempts; retry++ { // BUG: three retries after the first call: four calls
				if err == nil || ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
					break
				}
				select {
				case <-time.After(backoff):
				case <-ctx.Done():
				}
				reply, err = call(ctx, timeout, addr, args)
			}
			out[i] = suites.Result{Addr: addr, Reply: reply, Err: err, Latency: time.Since(start)}
		})
	}
	wg.Wait()
	return out, joinErrors(out)
}
