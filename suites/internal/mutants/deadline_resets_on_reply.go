package mutants

import (
	"context"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// deadlineResetsOnReply bounds its fan-out with time.After inside the
// select of its gather loop: every reply starts a new timer, so the
// deadline runs from the latest reply, not from the fan-out's start, and
// servers that answer one after another, each within the timeout of the
// one before, stretch the fan-out far past its deadline.
//
// time.After in a for-select loop re-armed on every other event, so that
// the timeout never fires, is lightningnetwork/lnd#251, stackrox/collector#1645,
// streamnative/pulsarctl#85 and knative/serving#2389; golang/go#70821 asks
// time.After's documentation to warn about it.
func deadlineResetsOnReply(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args) ([]suites.Result, error) {
	type result struct {
		i int
		o suites.Result
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // lets the calls still running go
	results := make(chan result, len(addrs))
	for i, addr := range addrs {
		go func() {
			start := time.Now()
			reply, err := callUnbounded(ctx, addr, args) // the fan-out's deadline bounds it
			results <- result{i, suites.Result{Addr: addr, Reply: reply, Err: err, Latency: time.Since(start)}}
		}()
	}
	out := make([]suites.Result, len(addrs))
	done := make([]bool, len(addrs))
	missing := func(err error) ([]suites.Result, error) {
		for i := range out {
			if !done[i] {
				out[i] = suites.Result{Addr: addrs[i], Err: err}
			}
		}
		return out, joinErrors(out)
	}
	for range addrs {
		select {
		case r := <-results:
			out[r.i], done[r.i] = r.o, true
		case <-ctx.Done():
			return missing(ctx.Err())
		case <-time.After(timeout): // BUG: a new timer per reply: the deadline runs from the last reply
			return missing(context.DeadlineExceeded)
		}
	}
	return out, joinErrors(out)
}
