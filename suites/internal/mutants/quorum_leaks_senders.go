package mutants

import (
	"context"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// quorumLeaksSenders returns at the quorum and cancels the rest, but its
// results channel is unbuffered and nobody receives from it any more:
// every call it let go ends and then blocks forever on its send. grafana/dskit
// ring/replication_set.go's DoUntilQuorum buffers resultsChan to
// len(r.Instances) and drains it in a deferred goroutine for exactly this
// (its leak notes: grafana/dskit#315); peterbourgon/how-i-start-go#7 is
// the same question about a multi-provider fan-out that returns early.
func quorumLeaksSenders(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args) ([]suites.Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n, k := len(addrs), majorityA(len(addrs))
	results := make(chan slotA) // BUG: unbuffered, and abandoned at the quorum: the calls let go block on their send
	for i, addr := range addrs {
		go func() { results <- slotA{i, callA(ctx, timeout, addr, args)} }()
	}
	out, done := make([]suites.Result, n), make([]bool, n)
	ok, failed := 0, 0
	for ok < k && failed <= n-k {
		r := <-results
		out[r.i], done[r.i] = r.o, true
		if r.o.Err == nil {
			ok++
		} else {
			failed++
		}
	}
	return quorumA(k, ok, addrs, out, done)
}
