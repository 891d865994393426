package mutants

import (
	"context"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// deadlineTimeoutAsSuccess is a deadline-bounded fan-out that returns at
// its deadline with the replies it has, and leaves the slots of the
// servers still missing as they were made: a zero reply and a nil error,
// a success that server never sent.
//
// It is the gather loop of Rob Pike's "Go Concurrency Patterns" (Google
// I/O 2012, talks.golang.org/2012/concurrency.slide, "Google Search
// 2.1"), which at its timeout returns the results it has, those missing
// simply absent, moved to outcomes kept by index, where absent reads as
// answered. Silent partial results at a collection timeout are
// NetApp/harvest#2109 (the REST collector "does not collect all records if
// the data is not retrieved within the specified return_timeout") and
// Avarok-Cybersecurity/atlas#482 (a request that expired is returned as a
// normal 200, indistinguishable from a real answer).
func deadlineTimeoutAsSuccess(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args) ([]suites.Result, error) {
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
	for i := range out {
		out[i] = suites.Result{Addr: addrs[i]} // BUG: a server still missing at the deadline keeps this: no reply, no error
	}
	for range addrs {
		select {
		case r := <-results:
			out[r.i] = r.o
		case <-ctx.Done():
			return out, joinErrors(out)
		}
	}
	return out, joinErrors(out)
}
