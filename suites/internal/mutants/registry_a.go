package mutants

// shapeMutantsA returns mutants of the shape claims (see All): of
// Quorum, FirstSuccess and FailFast. Each one's Claims are those of the
// correct caller it was broken from; its file's doc comment cites where
// its bug is found.
func shapeMutantsA() []Mutant {
	const quorum, first, fast = "Quorum(n/2+1)", "FirstSuccess", "FailFast"
	return []Mutant{
		{Name: "quorum-waits-for-all", Shape: quorum, Bug: "a majority quorum that counts its successes after wg.Wait: it returns when the slowest call ends",
			Source: "longhorn/longhorn#13776 (multi_writer_at.go: wg.Wait before the ack); morrow-project/morrow#136",
			New:    outcomes(quorumWaitsForAll), Claims: quorumClaimsA()},
		{Name: "quorum-no-early-fail", Shape: quorum, Bug: "a quorum out of reach (n-k+1 failures) is not given up: it waits for every call",
			Source: "elastic/elasticsearch#16772; orientechnologies/orientdb#2692; the tracker.failed() check of grafana/dskit ring/replication_set.go",
			New:    outcomes(quorumNoEarlyFail), Claims: quorumClaimsA()},
		{Name: "quorum-counts-errors", Shape: quorum, Bug: "every reply counts toward the quorum, an error reply too",
			Source: "hashicorp/raft raft.go runCandidate without its vote.Granted check; snapshot-labs/sx-evm#175",
			New:    outcomes(quorumCountsErrors), Claims: quorumClaimsA()},
		{Name: "quorum-self-vote", Shape: quorum, Bug: "successes tallied from 1, as a Raft candidate counts its own vote: it returns a success short",
			Source: "hashicorp/raft raft.go (electSelf's own vote tallied by runCandidate)",
			New:    outcomes(quorumSelfVote), Claims: quorumClaimsA()},
		{Name: "quorum-half-majority", Shape: quorum, Bug: "the majority is computed as ⌈n/2⌉: half of an even n (2 of 4, 0 of 0)",
			Source: "Agoric/agoric-sdk#10274; alphaonedev/ai-memory-mcp#1888",
			New:    outcomes(quorumHalfMajority), Claims: quorumClaimsA()},
		{Name: "quorum-leaks-senders", Shape: quorum, Bug: "it returns at the quorum, results channel unbuffered: the calls let go block on their send forever",
			Source: "grafana/dskit ring/replication_set.go (DoUntilQuorum's buffered, drained resultsChan) and grafana/dskit#315; peterbourgon/how-i-start-go#7",
			New:    outcomes(quorumLeaksSenders), Claims: quorumClaimsA()},
		{Name: "first-result", Shape: first, Bug: "the talk's First: it returns the first result, an error too, not the first success",
			Source: "Go Concurrency Patterns (2012), golang/talks content/2012/concurrency/support/google2.3.go First; go.dev/blog/concurrency-timeouts",
			New:    outcomes(firstResult), Claims: firstClaimsA()},
		{Name: "first-leaks", Shape: first, Bug: "first success on an unbuffered channel, as the talk's First: the losers block on their send forever",
			Source: "golang/talks content/2012/concurrency/support/google2.3.go (make(chan Result)); the buffered fix of go.dev/blog/concurrency-timeouts",
			New:    outcomes(firstLeaks), Claims: firstClaimsA()},
		{Name: "first-last-error", Shape: first, Bug: "when every call failed, the error keeps only the last failure's cause",
			Source: "libp2p/rust-libp2p#5899; golang/go#18183",
			New:    outcomes(firstLastError), Claims: firstClaimsA()},
		{Name: "failfast-own-cancel", Shape: fast, Bug: "fail fast whose error is ctx.Err(): the context.Canceled of its own cancel, not the failure's cause",
			Source: "dominikh/go-tools#155 (cockroachdb/cockroach#17453); golang/go#59355",
			New:    outcomes(failFastOwnCancel), Claims: failFastClaimsA()},
		{Name: "failfast-outer-ctx", Shape: fast, Bug: "errgroup.WithContext with its context discarded: the first failure cancels nothing, Wait waits for the slowest",
			Source: "docker/compose#13480; cosmos/relayer#612",
			New:    outcomes(failFastOuterCtx), Claims: failFastClaimsA()},
		{Name: "failfast-not-cancelling", Shape: fast, Bug: "it returns at the first failure without cancelling the rest: their goroutines wait on after it returned",
			Source: "golang/go#57534 (bcmills: return err without cancel and Wait leaks); peterbourgon/how-i-start-go#7",
			New:    outcomes(failFastNotCancelling), Claims: failFastClaimsA()},
	}
}
