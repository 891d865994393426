package mutants

import (
	"context"
	"sync"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// boundedTimeoutFromStart keeps at most four calls in flight, and bounds
// each call with its timeout, but starts that timeout before the call
// waits for its slot: a call queued behind slow ones spends its time
// waiting and times out, though its own server would have answered well
// within it.
//
// A timeout that runs while the work waits in its queue is
// projectcalico/felix#2248 ("some tasks get queued, but the timeout is
// global so the queueing makes the job expire"), Insajin/autopus-adk#18 (a
// queued task's deadline consumed while it waits on the semaphore) and
// Avarok-Cybersecurity/atlas#482 ("timeout_at is stamped at arrival ...
// the deadline is consumed by queue wait").
func boundedTimeoutFromStart(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args) ([]suites.Result, error) {
	const limit = 4 // as claimed: suites.Bounded(4)
	sem := make(chan struct{}, limit)
	out := make([]suites.Result, len(addrs))
	var wg sync.WaitGroup
	for i, addr := range addrs {
		wg.Go(func() {
			start := time.Now()
			cctx, cancel := context.WithTimeout(ctx, timeout) // BUG: the call's clock starts before it waits for a slot
			defer cancel()
			select {
			case sem <- struct{}{}:
			case <-cctx.Done():
				out[i] = suites.Result{Addr: addr, Err: cctx.Err()}
				return
			}
			defer func() { <-sem }()
			reply, err := call(cctx, timeout, addr, args)
			out[i] = suites.Result{Addr: addr, Reply: reply, Err: err, Latency: time.Since(start)}
		})
	}
	wg.Wait()
	return out, joinErrors(out)
}
