package mutants

import (
	"context"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// quorumHalfMajority computes its majority as ⌈n/2⌉: right for odd n, but
// half the servers for even n (2 of 4), and none of 0. The bug of
// Agoric/agoric-sdk#10274 (a MAJORITY quorum of ceilDivide(size, 2): "half
// [is] enough for even numbers") and alphaonedev/ai-memory-mcp#1888
// (n.div_ceil(2), a non-majority W for even N).
func quorumHalfMajority(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args) ([]suites.Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n := len(addrs)
	k := (n + 1) / 2 // BUG: ⌈n/2⌉ is half of an even n, not a majority: n/2+1
	results := make(chan slotA, n)
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
