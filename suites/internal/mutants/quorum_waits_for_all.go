package mutants

import (
	"context"
	"sync"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// quorumWaitsForAll is a majority quorum that counts its successes only
// after wg.Wait: its answer is right, but it comes when the slowest call
// has ended, not at the k-th success, so one held server holds the
// fan-out. The write path of longhorn/longhorn#13776 (the V1 engine's
// pkg/controller/multi_writer_at.go acknowledges a write after wg.Wait,
// "synchronous write latency = the slowest replica") and of
// morrow-project/morrow#136 (the follower tasks are drained before the
// success count is compared with the quorum).
func quorumWaitsForAll(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args) ([]suites.Result, error) {
	k := majorityA(len(addrs))
	out := make([]suites.Result, len(addrs))
	done := make([]bool, len(addrs))
	var wg sync.WaitGroup
	for i, addr := range addrs {
		wg.Go(func() { out[i], done[i] = callA(ctx, timeout, addr, args), true })
	}
	wg.Wait() // BUG: a quorum returns at its k-th success, not once every call has ended
	ok := 0
	for _, o := range out {
		if o.Err == nil {
			ok++
		}
	}
	return quorumA(k, ok, addrs, out, done)
}
