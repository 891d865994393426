package mutants

import (
	"context"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// deadlineWaitsOnError is a deadline-bounded fan-out that counts only
// successful replies towards "every call has ended": a server that
// answers with an error at once leaves the count one short, and the
// fan-out sits out the whole deadline before it returns what it had long
// had.
//
// The collector that waits out its whole timeout although every response
// it expects is in is tcdl/msb#55 ("a Requester/Collector does not end
// immediately after the expected number of responses is reached": it
// ended at its 5000ms timeout); the gather loop it breaks is the one of
// Rob Pike's "Go Concurrency Patterns" (Google I/O 2012,
// talks.golang.org/2012/concurrency.slide, "Google Search 2.1").
func deadlineWaitsOnError(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args) ([]suites.Result, error) {
	type result struct {
		i int
		o suites.Result
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	results := make(chan result, len(addrs))
	for i, addr := range addrs {
		go func() {
			start := time.Now()
			reply, err := call(ctx, timeout, addr, args)
			results <- result{i, suites.Result{Addr: addr, Reply: reply, Err: err, Latency: time.Since(start)}}
		}()
	}
	out := make([]suites.Result, len(addrs))
	done := make([]bool, len(addrs))
	for ok := 0; ok < len(addrs); {
		select {
		case r := <-results:
			out[r.i], done[r.i] = r.o, true
			if r.o.Err == nil {
				ok++ // BUG: a failed call has ended too; only successes are counted
			}
		case <-ctx.Done():
			for i := range out {
				if !done[i] {
					out[i] = suites.Result{Addr: addrs[i], Err: ctx.Err()}
				}
			}
			return out, joinErrors(out)
		}
	}
	return out, joinErrors(out)
}
