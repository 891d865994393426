package mutants

import (
	"time"

	"github.com/rpcfleet/rpcfleet/suites"
)

// shapeMutantsB returns mutants of the shape claims (see All): of
// DeadlineBounded, Hedged, Bounded and Retries. Each one's Claims are
// those of the correct caller it was broken from: a fan-out bounded by
// the timeout it is built with; hedged after 100ms with at most one
// backup; four calls in flight; three calls per address.
func shapeMutantsB() []Mutant {
	deadline := func() []suites.Option {
		return []suites.Option{suites.DeadlineBounded(), suites.HonoursCancel(), suites.KeepsInputOrder(), suites.AggregatesErrors()}
	}
	hedged := func() []suites.Option { return append(fullClaims(), suites.Hedged(100*time.Millisecond, 1)) }
	bounded := func() []suites.Option { return append(fullClaims(), suites.Bounded(4)) }
	retries := func() []suites.Option { return append(fullClaims(), suites.Retries(3)) }
	return []Mutant{
		{Name: "deadline-waits-on-error", Bug: "deadline-bounded: only successes count towards done, so an erroring server makes it wait for the deadline",
			New: outcomes(deadlineWaitsOnError), Claims: deadline()},
		{Name: "deadline-timeout-as-success", Bug: "deadline-bounded: a server still missing at the deadline is reported with a zero reply and no error",
			New: outcomes(deadlineTimeoutAsSuccess), Claims: deadline()},
		{Name: "deadline-piles-up", Bug: "deadline-bounded: replies on an unbuffered channel: a call cut off by the deadline blocks forever on its send",
			New: outcomes(deadlinePilesUp), Claims: deadline()},
		{Name: "deadline-resets-on-reply", Bug: "deadline-bounded: time.After inside the gather loop: the deadline runs from the last reply, not the start",
			New: outcomes(deadlineResetsOnReply), Claims: deadline()},
		{Name: "hedge-before-delay", Bug: "hedged: time.Duration(100) for a 100ms delay is 100ns: every call gets its backup at once",
			New: outcomes(hedgeBeforeDelay), Claims: hedged()},
		{Name: "hedge-same-server", Bug: "hedged: the backup goes to the address of the call it backs up",
			New: outcomes(hedgeSameServer), Claims: hedged()},
		{Name: "hedge-waits-for-primary", Bug: "hedged: the backup's reply wins, but the fan-out still waits for the straggling primary",
			New: outcomes(hedgeWaitsForPrimary), Claims: hedged()},
		{Name: "hedge-losers-leak", Bug: "hedged: attempts report on an unbuffered channel: each cancelled loser blocks forever on its send",
			New: outcomes(hedgeLosersLeak), Claims: hedged()},
		{Name: "hedge-no-max", Bug: "hedged: backups are not counted: one more every delay, to every other replica, where one is claimed",
			New: outcomes(hedgeNoMax), Claims: hedged()},
		{Name: "bounded-releases-early", Bug: "bounded: the slot is given back once the call is sent, not when it ends: every call in flight",
			New: outcomes(boundedReleasesEarly), Claims: bounded()},
		{Name: "bounded-timeout-from-start", Bug: "bounded: a call's timeout starts before it waits for its slot: queued calls time out",
			New: outcomes(boundedTimeoutFromStart), Claims: bounded()},
		{Name: "bounded-acquire-error-ignored", Bug: "bounded: semaphore.Acquire's error is ignored: a cancel while waiting for a slot makes Release panic",
			New: outcomes(boundedAcquireErrorIgnored), Claims: bounded()},
		{Name: "retry-unbounded", Bug: "retries: no count of attempts: an always-failing replica is called until ctx ends",
			New: outcomes(retryUnbounded), Claims: retries()},
		{Name: "retry-off-by-one", Bug: "retries: three retries after the first call, four calls where three are claimed",
			New: outcomes(retryOffByOne), Claims: retries()},
		{Name: "retry-shadowed-err", Bug: "retries: err declared with := in the loop: a call that failed every attempt is reported as a success",
			New: outcomes(retryShadowedErr), Claims: retries()},
	}
}
