// Package suites holds rpcfleet's Ginkgo v2 / Gomega specs for fan-out
// callers: completion (one result per address, return only after every
// reply), ordering (input order, completion order, parallelism), error
// handling (refused, error reply, hang, cancellation, partial failure) and
// hygiene (no goroutine leak, race-free). They run against the reference
// caller on an in-process fleet:
//
//	go tool ginkgo -p --race --randomize-all ./suites
package suites
