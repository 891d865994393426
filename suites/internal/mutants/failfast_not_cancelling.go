package mutants

import (
	"context"
	"fmt"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// failFastNotCancelling returns at the first failure with its cause, but
// never cancels the calls it lets go: they go on waiting for their
// replies, up to their timeout, after the fan-out returned (the channel is
// buffered, so they exit then; a held or hung server holds a goroutine and
// a connection per fan-out until it does). The leak bcmills describes in
// golang/go#57534 (writing `return err` where `cancel(); g.Wait(); return
// err` was meant leaks every goroutine started so far) and the question
// of peterbourgon/how-i-start-go#7 (the fastest provider errors, the
// fan-out returns, "the other 9 goroutines are still running").
func failFastNotCancelling(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args) ([]suites.Result, error) {
	n := len(addrs)
	results := make(chan slotA, n)
	for i, addr := range addrs {
		go func() { results <- slotA{i, callA(ctx, timeout, addr, args)} }()
	}
	out, done := make([]suites.Result, n), make([]bool, n)
	for range addrs {
		r := <-results
		out[r.i], done[r.i] = r.o, true
		if r.o.Err != nil {
			letGoA(addrs, out, done)
			return out, fmt.Errorf("%s: %w", r.o.Addr, r.o.Err) // BUG: returns without cancelling the calls it lets go
		}
	}
	return out, nil
}
