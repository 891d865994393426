package mutants

import (
	"context"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// quorumNoEarlyFail returns at the k-th success, but when the quorum is
// out of reach (n-k+1 failures) it goes on waiting for the remaining
// calls, so a lost quorum is reported at the calls' timeout, or when a
// held server lets go, not at once. The complaint of
// elastic/elasticsearch#16772 (a write whose quorum cannot be met waits
// for the general timeout) and orientechnologies/orientdb#2692; the check
// it lacks is the tracker.failed() of grafana/dskit
// ring/replication_set.go (Do and DoUntilQuorum give up as soon as more
// than MaxErrors calls failed).
func quorumNoEarlyFail(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args) ([]suites.Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n, k := len(addrs), majorityA(len(addrs))
	results := make(chan slotA, n)
	for i, addr := range addrs {
		go func() { results <- slotA{i, callA(ctx, timeout, addr, args)} }()
	}
	out, done := make([]suites.Result, n), make([]bool, n)
	ok, failed := 0, 0
	for ok < k && ok+failed < n { // BUG: stops only when all answered, not at n-k+1 failures
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
