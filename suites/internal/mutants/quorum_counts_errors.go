package mutants

import (
	"context"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// quorumCountsErrors counts every reply toward the quorum, an error reply
// too ("the server voted"): k servers that fail at once make a quorum,
// and the fan-out returns nil. hashicorp/raft raft.go's runCandidate
// tallies a RequestVote response only `if vote.Granted`; this is that
// tally without the check, the bug of snapshot-labs/sx-evm#175
// (votesAgainst counted toward the quorum).
func quorumCountsErrors(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args) ([]suites.Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n, k := len(addrs), majorityA(len(addrs))
	results := make(chan slotA, n)
	for i, addr := range addrs {
		go func() { results <- slotA{i, callA(ctx, timeout, addr, args)} }()
	}
	out, done := make([]suites.Result, n), make([]bool, n)
	votes, failed := 0, 0
	for votes < k && failed <= n-k {
		r := <-results
		out[r.i], done[r.i] = r.o, true
		votes++ // BUG: only a success is a vote; an error reply is a failure
	}
	return quorumA(k, votes, addrs, out, done)
}
