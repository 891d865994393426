package mutants

import (
	"context"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// quorumSelfVote tallies its successes as a Raft candidate tallies votes,
// its own included: it starts at one, so k-1 servers' successes make its
// "quorum" and it returns a success short. In hashicorp/raft raft.go a
// candidate's electSelf puts its own vote on voteCh and runCandidate
// counts it with the others against quorumSize(), which counts the
// candidate among the voters; a client fanning out to n servers is not
// one of them.
func quorumSelfVote(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args) ([]suites.Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n, k := len(addrs), majorityA(len(addrs))
	results := make(chan slotA, n)
	for i, addr := range addrs {
		go func() { results <- slotA{i, callA(ctx, timeout, addr, args)} }()
	}
	out, done := make([]suites.Result, n), make([]bool, n)
	granted, failed := 1, 0 // BUG: the caller votes for itself, as a candidate does; it is not a server
	for granted < k && failed <= n-k {
		r := <-results
		out[r.i], done[r.i] = r.o, true
		if r.o.Err == nil {
			granted++
		} else {
			failed++
		}
	}
	return quorumA(k, granted, addrs, out, done)
}
