package mutants

import (
	"context"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// deadlinePilesUp is a deadline-bounded fan-out that returns at its
// deadline, with a timeout error for each server still missing, as it
// should, but collects on an unbuffered channel: a call cut off by the
// deadline ends a moment later and blocks forever on its send, so a hung
// server collects one goroutine per fan-out.
//
// It is the unbuffered channel of Rob Pike's "Go Concurrency Patterns"
// (Google I/O 2012, talks.golang.org/2012/concurrency.slide, "Google
// Search 2.1", where a search slower than the timeout is left blocked on
// ch); the same leak, fixed by a buffer of one, is
// quii/learn-go-with-tests#257 (the select chapter's Racer),
// hellofresh/health-go#224 (a check that times out) and
// prometheus/prometheus#8274; the Go wiki's Timeouts page names the fix.
func deadlinePilesUp(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args) ([]suites.Result, error) {
	type result struct {
		i int
		o suites.Result
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	results := make(chan result) // BUG: unbuffered, and nobody reads it after the deadline
	for i, addr := range addrs {
		go func() {
			start := time.Now()
			reply, err := call(ctx, timeout, addr, args)
			results <- result{i, suites.Result{Addr: addr, Reply: reply, Err: err, Latency: time.Since(start)}}
		}()
	}
	out := make([]suites.Result, len(addrs))
	done := make([]bool, len(addrs))
	for range addrs {
		select {
		case r := <-results:
			out[r.i], done[r.i] = r.o, true
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
