package mutants

import (
	"context"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// boundedAcquireErrorIgnored keeps at most four calls in flight with
// x/sync/semaphore, acquiring a slot in the loop before each goroutine,
// and ignores Acquire's error: once ctx ends while the loop waits for a
// slot, Acquire returns ctx.Err() without one, the goroutine runs anyway,
// and its deferred Release gives back a slot it never held. The
// semaphore panics, "semaphore: released more than held", and takes the
// process with it.
//
// This is the pattern oras-project/oras-go#363 fixed ("If ctx is
// cancelled then Acquire may return an error, which will then cause
// Release to panic after it's called more times than the semaphore was
// successfully acquired"), the errgroup-plus-semaphore loop of
// golang/go#27837 that errgroup.SetLimit was added to replace.
func boundedAcquireErrorIgnored(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args) ([]suites.Result, error) {
	const limit = 4 // as claimed: suites.Bounded(4)
	sem := semaphore.NewWeighted(limit)
	out := make([]suites.Result, len(addrs))
	var wg sync.WaitGroup
	for i, addr := range addrs {
		start := time.Now()
		_ = sem.Acquire(ctx, 1) // BUG: on ctx's end it fails without a slot, and the goroutine still Releases one
		wg.Go(func() {
			defer sem.Release(1)
			reply, err := call(ctx, timeout, addr, args)
			out[i] = suites.Result{Addr: addr, Reply: reply, Err: err, Latency: time.Since(start)}
		})
	}
	wg.Wait()
	return out, joinErrors(out)
}
