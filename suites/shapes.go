package suites

import (
	"fmt"
	"strings"
	"time"
)

// A fan-out's shape says when it returns. Wait-for-all, the default, is
// the shape every claim-less run judges: FanOut returns once every call
// has ended. A caller of another shape claims it, and the suite checks
// that shape's promises instead of wait-for-all's:
//
//	suites.Quorum(func(n int) int { return n/2 + 1 }) // returns at the k-th success
//	suites.FirstSuccess()                              // returns at the first success
//	suites.FailFast()                                  // returns at the first failure
//	suites.DeadlineBounded()                           // returns by its deadline, with what came
//
// at most one of them, and beside any of them (or wait-for-all):
//
//	suites.Bounded(16)                      // at most 16 calls in flight
//	suites.Hedged(50*time.Millisecond, 1)   // a backup after 50ms, at most 1 per call
//	suites.Retries(3)                       // a failed call tried up to 3 times
//	suites.NotConcurrent()                  // one fan-out at a time
//
// A call a shape no longer waits for (a quorum's surplus, a first
// success's losers, what a fail-fast cancels, what a deadline cuts off)
// is let go: its outcome may be any error (suites.ErrNoReport from
// SeedStyle, caller.ErrCancelled, context.Canceled), never a success its
// server did not send, and the suite checks that it is really let go:
// within a short bound of FanOut's return, every goroutine started during
// the fan-out has exited (connection readers of a pool excepted, a dial
// still waiting not). An implementation that keeps goroutines of its own
// beyond a fan-out (a janitor, a writer per connection) starts them in
// its constructor, not lazily in its first fan-out.

// shape is the claimed shape of the fan-out.
type shape int

const (
	waitAll shape = iota
	quorumShape
	firstSuccess
	failFast
	deadlineBounded
)

func (s shape) String() string {
	return [...]string{"wait-for-all", "quorum", "first success", "fail fast", "deadline-bounded"}[s]
}

// returnsEarly reports whether the shape may return before every call
// has ended while no failure, timeout or cancellation happened.
func (s shape) returnsEarly() bool { return s == quorumShape || s == firstSuccess }

// Quorum claims that the fan-out to n addresses returns once k(n) calls
// have succeeded (k(n) <= 0: at once, with no error), without waiting for
// the rest, which it lets go; and as soon as k(n) successes are out of
// reach (n-k(n)+1 failures, or k(n) > n), with an error, rather than at a
// deadline. Its error is nil once the quorum is reached, and with
// AggregatesErrors it names the failed addresses and wraps their causes.
// k must be safe for concurrent use.
func Quorum(k func(n int) int) Option {
	return func(c *config) {
		if k == nil {
			c.bad = append(c.bad, "suites.Quorum(nil): k must say how many successes a fan-out to n addresses needs")
			return
		}
		c.setShape(quorumShape, "suites.Quorum")
		c.quorum = k
	}
}

// FirstSuccess claims that the fan-out returns at its first successful
// call, with that server's reply at its address, letting the others go; a
// failed call does not end it (the first result is not the first
// success); when every call failed, its error wraps every cause, and a
// fan-out to no address fails (no success can come).
func FirstSuccess() Option {
	return func(c *config) {
		c.setShape(firstSuccess, "suites.FirstSuccess")
		c.quorum = func(int) int { return 1 }
	}
}

// FailFast claims that the fan-out returns at its first failed call,
// before slower calls end, letting them go, with an error that is that
// call's cause (errors.Is and errors.As find it; not the
// context.Canceled of the fan-out's own cancel) and, with
// AggregatesErrors, names its address. When no call fails it waits for
// all, as wait-for-all does, and every spec of wait-for-all without
// failures applies.
func FailFast() Option { return func(c *config) { c.setShape(failFast, "suites.FailFast") } }

// DeadlineBounded claims that the fan-out as a whole is bounded by the
// timeout it was built with: it returns at the latest at that deadline,
// with every reply that came before it and, for each server still
// missing, an error that says it timed out; and before the deadline once
// every call has ended, failures included. It implies TimesOut. Calls
// cut off by the deadline are let go: a hung server does not collect a
// goroutine per round.
func DeadlineBounded() Option {
	return func(c *config) {
		c.setShape(deadlineBounded, "suites.DeadlineBounded")
		c.timesOut = true
	}
}

// Bounded claims that each fan-out keeps at most c calls in flight at once
// (retries and hedges included; a bound of its own, not shared with
// concurrent fan-outs), starting the others as earlier ones end: n
// servers delayed d take about ⌈n/c⌉·d. Every other claim still holds
// with the bound: a call waiting for its slot honours ctx, and its
// timeout (TimesOut) runs from its slot, not from the fan-out's start
// (under DeadlineBounded, the fan-out's deadline bounds queued calls
// too, and specs that need more calls in flight than c are left out).
func Bounded(c int) Option {
	return func(cfg *config) {
		if c < 1 {
			cfg.bad = append(cfg.bad, fmt.Sprintf("suites.Bounded(%d): at most c calls in flight needs c >= 1", c))
			return
		}
		cfg.bound = c
	}
}

// Hedged claims that a call not answered after delay gets a backup call
// to another address of the fan-out (the fan-out's addresses are one
// group of replicas), never before delay, at most most backups per call,
// and that the first successful reply wins: the call's outcome is it,
// from whichever server sent it, and the losers are let go. A hedged
// caller may hedge only stragglers: the spec that needs a backup makes one
// call of a fan-out of four slow, and the others answer at once. Specs
// with failed calls are left out for a hedged caller (a backup changes
// which server answers and how many calls each receives), and under an
// early-returning shape the hedge specs are too (its quorum comes before
// the slow call needs a backup).
func Hedged(delay time.Duration, most int) Option {
	return func(c *config) {
		if delay < time.Millisecond || most < 1 {
			c.bad = append(c.bad, fmt.Sprintf("suites.Hedged(%v, %d): a hedge needs a delay of at least 1ms and at least 1 backup", delay, most))
			return
		}
		c.hedgeDelay, c.hedgeMax = delay, most
	}
}

// Retries claims that a failed call is tried again until it succeeds, at
// most attempts calls per address and fan-out in all: a server that
// fails twice and then answers is answered by a caller with attempts >=
// 3, and one that always fails receives at most attempts calls.
func Retries(attempts int) Option {
	return func(c *config) {
		if attempts < 2 {
			c.bad = append(c.bad, fmt.Sprintf("suites.Retries(%d): a caller that retries makes at least 2 attempts", attempts))
			return
		}
		c.attempts = attempts
	}
}

// NotConcurrent says the implementation is not meant for concurrent use:
// one fan-out at a time (state per instance). The specs of concurrent
// fan-outs are left out; fan-outs one after another through one
// implementation are checked instead.
func NotConcurrent() Option { return func(c *config) { c.notConcurrent = true } }

// TimeoutIs teaches the suite another RPC system's timeout errors: a
// call's error counts as a timeout when is(err) is true, beside what the
// standard library returns for a deadline (see matchers.IsTimeout:
// errors matching context.DeadlineExceeded or os.ErrDeadlineExceeded, and
// net.Error values whose Timeout() is true), e.g. a gRPC status with code
// DeadlineExceeded. is must be safe for concurrent use.
func TimeoutIs(is func(err error) bool) Option {
	return func(c *config) {
		if is == nil {
			c.bad = append(c.bad, "suites.TimeoutIs(nil): give a function that tells a timeout error")
			return
		}
		c.timeoutIs = append(c.timeoutIs, is)
	}
}

// setShape sets the fan-out's main shape, which only one claim may set.
func (c *config) setShape(s shape, claim string) {
	if c.shape != waitAll && c.shape != s {
		c.bad = append(c.bad, fmt.Sprintf("%s: the fan-out already claims the %s shape (%s); a fan-out has one", claim, c.shape, c.shapeClaim))
		return
	}
	c.shape, c.shapeClaim = s, claim
}

// claims names the claims of cfg, for messages.
func (c *config) claims() string {
	var out []string
	if c.shape != waitAll {
		out = append(out, c.shapeClaim)
	}
	if c.bound > 0 {
		out = append(out, fmt.Sprintf("Bounded(%d)", c.bound))
	}
	if c.hedgeMax > 0 {
		out = append(out, fmt.Sprintf("Hedged(%v, %d)", c.hedgeDelay, c.hedgeMax))
	}
	if c.attempts > 0 {
		out = append(out, fmt.Sprintf("Retries(%d)", c.attempts))
	}
	if len(out) == 0 {
		return "wait-for-all"
	}
	return strings.Join(out, ", ")
}
