package mutants

import (
	"context"
	"fmt"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// firstLeaks returns at the first success and cancels the rest, but, like
// the First of the 2012 Go Concurrency Patterns talk (golang/talks
// content/2012/concurrency/support/google2.3.go, `c := make(chan
// Result)`), its channel is unbuffered: the losers, cancelled, block
// forever on their send. The blog post "Go Concurrency Patterns: Timing
// out, moving on" (go.dev/blog/concurrency-timeouts) gives the fix: a
// channel buffered for every sender (or a send that cannot block).
func firstLeaks(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args) ([]suites.Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n := len(addrs)
	results := make(chan slotA) // BUG: unbuffered: once the first success is in, the losers' sends never complete
	for i, addr := range addrs {
		go func() { results <- slotA{i, callA(ctx, timeout, addr, args)} }()
	}
	out, done := make([]suites.Result, n), make([]bool, n)
	ok, failed := 0, 0
	for ok < 1 && failed < n {
		r := <-results
		out[r.i], done[r.i] = r.o, true
		if r.o.Err == nil {
			ok++
		} else {
			failed++
		}
	}
	var err error
	if ok == 0 {
		err = fmt.Errorf("every call of %d failed: %w", n, joinErrors(out))
	}
	letGoA(addrs, out, done)
	return out, err
}
