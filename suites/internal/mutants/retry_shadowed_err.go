package mutants

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// retryShadowedErr retries a failed call (an error reply, a refused dial,
// a dropped connection; not its own timeout, not ctx's end) after a short
// backoff, up to three calls per address, but declares the attempt's
// error with := inside the loop: the loop's checks see it, the outcome
// gets the outer err, never assigned. A call that succeeds is right by
// luck; one that failed every attempt is reported as a success with a
// zero reply.
//
// An error lost to := inside a retry is
// google/exposure-notifications-verification-server#1800 ("I think err
// being shadowed here causes it to be swallowed to the parent"); go vet's
// shadow analyzer, which would flag it, is not among vet's default
// checks.
func retryShadowedErr(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args) ([]suites.Result, error) {
	const attempts, backoff = 3, 10 * time.Millisecond // as claimed: suites.Retries(3)
	out := make([]suites.Result, len(addrs))
	var wg sync.WaitGroup
	for i, addr := range addrs {
		wg.Go(func() {
			start := time.Now()
			var reply fleet.Reply
			var err error
			for attempt := 1; attempt <= attempts; attempt++ {
				r, err := call(ctx, timeout, addr, args) // BUG: := declares a new err: the outer one stays nil
				if err == nil {
					reply = r
					break
				}
				if attempt == attempts || ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
					break
				}
				select {
				case <-time.After(backoff):
				case <-ctx.Done():
				}
			}
			out[i] = suites.Result{Addr: addr, Reply: reply, Err: err, Latency: time.Since(start)}
		})
	}
	wg.Wait()
	return out, joinErrors(out)
}
