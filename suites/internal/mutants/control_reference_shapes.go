package mutants

import (
	"context"
	"sync"
	"time"

	"github.com/rpcfleet/rpcfleet/caller"
	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// The reference caller's strategies, each under the shape claim it makes.
// Every caller is built the way suites/conformance_test.go builds the
// wait-for-all one: the suite's timeout for each call and each dial.

// refHedgeDelay is the hedge delay of the hedged reference control.
const refHedgeDelay = 100 * time.Millisecond

// refConcurrency is the bound of the bounded controls.
const refConcurrency = 4

// refAttempts is the attempts of the retrying reference control.
const refAttempts = 3

// reference returns a constructor of the reference caller with opts
// added to the suite's timeouts, wrapped by suites.Reference, which
// closes it.
func reference(opts ...caller.Option) func(time.Duration) suites.FanOuter {
	return func(timeout time.Duration) suites.FanOuter {
		return suites.Reference(caller.New(append([]caller.Option{caller.WithTimeout(timeout), caller.WithDialTimeout(timeout)}, opts...)...))
	}
}

// refMajority is the quorum of the reference quorum control. WithQuorum
// reads a k larger than the fan-out as every address, so a fan-out to no
// address needs none (and returns at once with no error): min(n/2+1, n).
func refMajority(n int) int { return min(n/2+1, n) }

// referenceQuorum returns a constructor of a reference caller with a
// quorum of k(n) for a fan-out to n addresses. caller.WithQuorum takes a
// fixed k, so it keeps one caller per quorum size, made the first time a
// fan-out needs it and reused by every later fan-out of that size (their
// connection pools live as long as the implementation, as they would in
// a service), and closes them all at Close.
func referenceQuorum(k func(n int) int) func(time.Duration) suites.FanOuter {
	return func(timeout time.Duration) suites.FanOuter {
		q := &quorumCallers{timeout: timeout, k: k, callers: map[int]suites.FanOuter{}}
		return suites.Closing(q.fanOut, q.Close)
	}
}

// quorumCallers is a reference caller per quorum size.
type quorumCallers struct {
	timeout time.Duration
	k       func(n int) int

	mu      sync.Mutex
	callers map[int]suites.FanOuter // by quorum
	closed  bool
}

func (q *quorumCallers) fanOut(ctx context.Context, addrs []string, args fleet.Args) ([]suites.Result, error) {
	need := q.k(len(addrs))
	q.mu.Lock()
	c, ok := q.callers[need]
	if !ok {
		c = reference(caller.WithQuorum(need))(q.timeout)
		if q.closed {
			c.(interface{ Close() error }).Close() // every call fails with caller.ErrClosed
		} else {
			q.callers[need] = c
		}
	}
	q.mu.Unlock()
	return c.FanOut(ctx, addrs, args)
}

// Close closes every caller.
func (q *quorumCallers) Close() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	for need, c := range q.callers {
		c.(interface{ Close() error }).Close()
		delete(q.callers, need)
	}
	return nil
}

// referenceControls are the reference caller's strategies.
func referenceControls() []Mutant {
	return []Mutant{
		{Name: "control-reference-quorum", Shape: "Quorum(n/2+1)", Bug: "none: the reference caller with WithQuorum(n/2+1), one Caller per quorum size",
			New: referenceQuorum(refMajority), Claims: append(fullClaims(), suites.Quorum(refMajority))},
		{Name: "control-reference-fail-fast", Shape: "FailFast", Bug: "none: the reference caller with WithFailFast",
			New: reference(caller.WithFailFast()), Claims: append(fullClaims(), suites.FailFast())},
		{Name: "control-reference-hedged", Shape: "Hedged(100ms, 1)", Bug: "none: the reference caller with WithHedge(100ms, 1)",
			New: reference(caller.WithHedge(refHedgeDelay, 1)), Claims: append(fullClaims(), suites.Hedged(refHedgeDelay, 1))},
		{Name: "control-reference-bounded", Shape: "Bounded(4)", Bug: "none: the reference caller with WithConcurrency(4)",
			New: reference(caller.WithConcurrency(refConcurrency)), Claims: append(fullClaims(), suites.Bounded(refConcurrency))},
		{Name: "control-reference-retries", Shape: "Retries(3)", Bug: "none: the reference caller with WithRetry(3, 10ms, 100ms)",
			New: reference(caller.WithRetry(refAttempts, 10*time.Millisecond, 100*time.Millisecond)), Claims: append(fullClaims(), suites.Retries(refAttempts))},
	}
}
