package mutants

import (
	"time"

	"github.com/rpcfleet/rpcfleet/suites"
)

// shapeMutantsB returns mutants of the shape claims (see All): of
// DeadlineBounded, Hedged, Bounded and Retries. Each one's Claims are
// those of the correct caller it was broken from: a fan-out bounded by
// the timeout it is built with; hedged after 100ms with at most one
// backup; four calls in flight; three calls per address. Its file's doc
// comment cites where its bug is found.
func shapeMutantsB() []Mutant {
	const deadlineShape, hedgedShape, boundedShape, retriesShape = "DeadlineBounded", "Hedged(100ms, 1)", "Bounded(4)", "Retries(3)"
	deadline := func() []suites.Option {
		return []suites.Option{suites.DeadlineBounded(), suites.HonoursCancel(), suites.KeepsInputOrder(), suites.AggregatesErrors()}
	}
	hedged := func() []suites.Option { return append(fullClaims(), suites.Hedged(100*time.Millisecond, 1)) }
	bounded := func() []suites.Option { return append(fullClaims(), suites.Bounded(4)) }
	retries := func() []suites.Option { return append(fullClaims(), suites.Retries(3)) }
	return []Mutant{
		{Name: "deadline-waits-on-error", Shape: deadlineShape, Bug: "only successes count towards done, so an erroring server makes it wait for the deadline",
			Source: "tcdl/msb#55; the gather loop of Go Concurrency Patterns (2012), talks.golang.org/2012/concurrency.slide",
			New:    outcomes(deadlineWaitsOnError), Claims: deadline()},
		{Name: "deadline-timeout-as-success", Shape: deadlineShape, Bug: "a server still missing at the deadline is reported with a zero reply and no error",
			Source: "Go Concurrency Patterns (2012), Google Search 2.1 (missing results absent); NetApp/harvest#2109; Avarok-Cybersecurity/atlas#482",
			New:    outcomes(deadlineTimeoutAsSuccess), Claims: deadline()},
		{Name: "deadline-piles-up", Shape: deadlineShape, Bug: "replies on an unbuffered channel: a call cut off by the deadline blocks forever on its send",
			Source: "Go Concurrency Patterns (2012), Google Search 2.1 (make(chan Result)); quii/learn-go-with-tests#257; hellofresh/health-go#224",
			New:    outcomes(deadlinePilesUp), Claims: deadline()},
		{Name: "deadline-resets-on-reply", Shape: deadlineShape, Bug: "time.After inside the gather loop: the deadline runs from the last reply, not the start",
			Source: "lightningnetwork/lnd#251; stackrox/collector#1645; streamnative/pulsarctl#85; golang/go#70821",
			New:    outcomes(deadlineResetsOnReply), Claims: deadline()},
		{Name: "hedge-before-delay", Shape: hedgedShape, Bug: "time.Duration(100) for a 100ms delay is 100ns: every call gets its backup at once",
			Source: "apecloud/kubeblocks#7956; cilium/cilium#5369; incident-io/catalog-importer#163; The Tail at Scale (CACM 2013) on the delay",
			New:    outcomes(hedgeBeforeDelay), Claims: hedged()},
		{Name: "hedge-same-server", Shape: hedgedShape, Bug: "the backup goes to the address of the call it backs up",
			Source: "grpc/grpc-java#7513; The Tail at Scale (CACM 2013): a secondary request to another replica",
			New:    outcomes(hedgeSameServer), Claims: hedged()},
		{Name: "hedge-waits-for-primary", Shape: hedgedShape, Bug: "the backup's reply wins, but the fan-out still waits for the straggling primary",
			Source: "The Tail at Scale (CACM 2013): cancel the rest at the first result; envoyproxy/envoy#6228 (docs in cloudnativeto/envoy#130); grpc/grpc.io#1199",
			New:    outcomes(hedgeWaitsForPrimary), Claims: hedged()},
		{Name: "hedge-losers-leak", Shape: hedgedShape, Bug: "attempts report on an unbuffered channel: each cancelled loser blocks forever on its send",
			Source: "authzed/spicedb#235 (hedgingProxy goroutines parked in chansend), after authzed/spicedb#187",
			New:    outcomes(hedgeLosersLeak), Claims: hedged()},
		{Name: "hedge-no-max", Shape: hedgedShape, Bug: "backups are not counted: one more every delay, to every other replica, where one is claimed",
			Source: "gRFC A6 hedging's cap (grpc/proposal#37; dotnet/AspNetCore.Docs#21621); praxis-proxy/praxis#924",
			New:    outcomes(hedgeNoMax), Claims: hedged()},
		{Name: "bounded-releases-early", Shape: boundedShape, Bug: "the slot is given back once the call is sent, not when it ends: every call in flight",
			Source: "Netflix/Hystrix#1867; the review of nperez0111/bookhive#196; golang/go#29889",
			New:    outcomes(boundedReleasesEarly), Claims: bounded()},
		{Name: "bounded-timeout-from-start", Shape: boundedShape, Bug: "a call's timeout starts before it waits for its slot: queued calls time out",
			Source: "projectcalico/felix#2248; Insajin/autopus-adk#18; Avarok-Cybersecurity/atlas#482",
			New:    outcomes(boundedTimeoutFromStart), Claims: bounded()},
		{Name: "bounded-acquire-error-ignored", Shape: boundedShape, Bug: "semaphore.Acquire's error is ignored: a cancel while waiting for a slot makes Release panic",
			Source: "oras-project/oras-go#363; golang/go#27837 (errgroup plus semaphore, before SetLimit)",
			New:    outcomes(boundedAcquireErrorIgnored), Claims: bounded()},
		{Name: "retry-unbounded", Shape: retriesShape, Bug: "no count of attempts: an always-failing replica is called until ctx ends",
			Source: "jurmous/etcd4j#31; jvoegele/external_service#43; Countly/countly-sdk-web#2; retry budgets: envoyproxy/envoy#9069, finagle.github.io/blog/2016/02/08/retry-budgets",
			New:    outcomes(retryUnbounded), Claims: retries()},
		{Name: "retry-off-by-one", Shape: retriesShape, Bug: "three retries after the first call, four calls where three are claimed",
			Source: "failsafe-go/failsafe-go#22; OpenNSWM-Lab/FAROS#120; sourcegraph/sourcegraph-public-snapshot#23717",
			New:    outcomes(retryOffByOne), Claims: retries()},
		{Name: "retry-shadowed-err", Shape: retriesShape, Bug: "err declared with := in the loop: a call that failed every attempt is reported as a success",
			Source: "google/exposure-notifications-verification-server#1800",
			New:    outcomes(retryShadowedErr), Claims: retries()},
	}
}
