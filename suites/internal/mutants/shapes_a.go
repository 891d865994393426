package mutants

import (
	"context"
	"fmt"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// Helpers of the quorum, first-success and fail-fast mutants (registry_a.go).

// majorityA is the quorum the quorum mutants' correct caller claims: a
// strict majority of n.
func majorityA(n int) int { return n/2 + 1 }

// quorumClaimsA are the claims of the majority-quorum caller the quorum
// mutants are broken from.
func quorumClaimsA() []suites.Option {
	return append([]suites.Option{suites.Quorum(majorityA)}, fullClaims()...)
}

// firstClaimsA are the claims of the first-success caller the first-*
// mutants are broken from.
func firstClaimsA() []suites.Option {
	return append([]suites.Option{suites.FirstSuccess()}, fullClaims()...)
}

// failFastClaimsA are the claims of the fail-fast caller the failfast-*
// mutants are broken from.
func failFastClaimsA() []suites.Option {
	return append([]suites.Option{suites.FailFast()}, fullClaims()...)
}

// slotA is one call's outcome and the index of its address.
type slotA struct {
	i int
	o suites.Result
}

// callA makes one bounded call of Service.Method and returns its outcome.
func callA(ctx context.Context, timeout time.Duration, addr string, args fleet.Args) suites.Result {
	start := time.Now()
	reply, err := call(ctx, timeout, addr, args)
	return suites.Result{Addr: addr, Reply: reply, Err: err, Latency: time.Since(start)}
}

// letGoA gives every address whose call has not ended (done false) the
// outcome of a call let go.
func letGoA(addrs []string, out []suites.Result, done []bool) {
	for i := range out {
		if !done[i] {
			out[i] = suites.Result{Addr: addrs[i], Err: context.Canceled}
		}
	}
}

// quorumA ends a quorum fan-out: the calls not ended are let go, and the
// error is nil when ok successes reach k, else it names every failed
// address that answered and wraps its cause.
func quorumA(k, ok int, addrs []string, out []suites.Result, done []bool) ([]suites.Result, error) {
	var err error
	if ok < k {
		err = fmt.Errorf("quorum of %d not reached (%d successes of %d): %w", k, ok, len(addrs), joinErrors(out))
	}
	letGoA(addrs, out, done)
	return out, err
}
