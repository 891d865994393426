package mutants

// shapeMutantsA returns mutants of the shape claims (see All): of
// Quorum, FirstSuccess and FailFast. Each one's Claims are those of the
// correct caller it was broken from.
func shapeMutantsA() []Mutant {
	return []Mutant{
		{Name: "quorum-waits-for-all", Bug: "a majority quorum that counts its successes after wg.Wait: it returns when the slowest call ends",
			New: outcomes(quorumWaitsForAll), Claims: quorumClaimsA()},
		{Name: "quorum-no-early-fail", Bug: "a quorum out of reach (n-k+1 failures) is not given up: it waits for every call",
			New: outcomes(quorumNoEarlyFail), Claims: quorumClaimsA()},
		{Name: "quorum-counts-errors", Bug: "every reply counts toward the quorum, an error reply too",
			New: outcomes(quorumCountsErrors), Claims: quorumClaimsA()},
		{Name: "quorum-self-vote", Bug: "successes tallied from 1, as a Raft candidate counts its own vote: it returns a success short",
			New: outcomes(quorumSelfVote), Claims: quorumClaimsA()},
		{Name: "quorum-half-majority", Bug: "the majority is computed as ⌈n/2⌉: half of an even n (2 of 4, 0 of 0)",
			New: outcomes(quorumHalfMajority), Claims: quorumClaimsA()},
		{Name: "quorum-leaks-senders", Bug: "it returns at the quorum, results channel unbuffered: the calls let go block on their send forever",
			New: outcomes(quorumLeaksSenders), Claims: quorumClaimsA()},
		{Name: "first-result", Bug: "the talk's First: it returns the first result, an error too, not the first success",
			New: outcomes(firstResult), Claims: firstClaimsA()},
		{Name: "first-leaks", Bug: "first success on an unbuffered channel, as the talk's First: the losers block on their send forever",
			New: outcomes(firstLeaks), Claims: firstClaimsA()},
		{Name: "first-last-error", Bug: "when every call failed, the error keeps only the last failure's cause",
			New: outcomes(firstLastError), Claims: firstClaimsA()},
		{Name: "failfast-own-cancel", Bug: "fail fast whose error is ctx.Err(): the context.Canceled of its own cancel, not the failure's cause",
			New: outcomes(failFastOwnCancel), Claims: failFastClaimsA()},
		{Name: "failfast-outer-ctx", Bug: "errgroup.WithContext with its context discarded: the first failure cancels nothing, Wait waits for the slowest",
			New: outcomes(failFastOuterCtx), Claims: failFastClaimsA()},
		{Name: "failfast-not-cancelling", Bug: "it returns at the first failure without cancelling the rest: their goroutines wait on after it returned",
			New: outcomes(failFastNotCancelling), Claims: failFastClaimsA()},
	}
}
