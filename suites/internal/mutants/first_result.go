package mutants

import (
	"context"
	"fmt"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// firstResult is the First of the 2012 Go Concurrency Patterns talk
// (golang/talks content/2012/concurrency/support/google2.3.go; the Query of
// the blog post "Go Concurrency Patterns: Timing out, moving on",
// go.dev/blog/concurrency-timeouts), with a buffered channel and a cancel:
// it returns the first result that arrives, and with replicas that can
// fail the first result is often an error. The talk's replicas never fail;
// a server that errors at once beats every success.
func firstResult(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args) ([]suites.Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n := len(addrs)
	if n == 0 {
		return nil, fmt.Errorf("no address to call")
	}
	results := make(chan slotA, n)
	for i, addr := range addrs {
		go func() { results <- slotA{i, callA(ctx, timeout, addr, args)} }()
	}
	out, done := make([]suites.Result, n), make([]bool, n)
	r := <-results // BUG: the first result, not the first success: an error ends the fan-out
	out[r.i], done[r.i] = r.o, true
	letGoA(addrs, out, done)
	if r.o.Err != nil {
		return out, fmt.Errorf("%s: %w", r.o.Addr, r.o.Err)
	}
	return out, nil
}
