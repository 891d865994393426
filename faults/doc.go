// Package faults is the vocabulary of misbehaviour for net/rpc servers:
// the plans users write, in Go or as text, and read back.
//
// A Plan is an ordered list of Rules; each Rule pairs a Fault (one of fourteen
// kinds, one per file: Delay, Error, Hang, Hold, Drop, Reset, Corrupt, Truncate,
// Throttle, Slice, Refuse, SlowAccept, Blackhole, Crash) with the calls it applies to:
// servers, method, call numbers, a per-call probability and a time window.
// A plan can be written as a Go value:
//
//	faults.Plan{Rules: []faults.Rule{{Fault: faults.Delay{D: 50 * time.Millisecond}}}}
//
// A call's faults have two parts: at most one delay, from the first Delay
// rule that applies, and at most one outcome, from the first rule of any
// other call fault that applies. Both apply: "delay=300ms;error=boom"
// answers with the error "boom" no sooner than 300ms after the request
// arrived, "delay=300ms;drop" drops the connection then. Connection faults
// are decided apart: each connection gets the first SlowAccept rule that
// applies, and every Refuse and Blackhole rule holds in its window. Every
// random number is drawn from a PRNG seeded with the fleet seed and the
// server index, in plan order and only by rules that can still apply, so
// the same seed and the same per-server call order give the same
// decisions.
//
// This package only describes faults. A fleet's servers (package fleet)
// apply them: an internal engine decides each call's faults and the
// server's rpc.ServerCodec applies them, so faults work for any receiver
// registered on the server.
//
// Plans have a text form, rules separated by ';', each
// kind[=value][,key=value...]:
//
//	delay=50ms,jitter=10ms
//	error=boom,p=0.25
//	hang
//
// Parse reads it and Plan.String writes it back. Parse rejects a rule that
// can never apply because an earlier rule of the same part applies to
// every call it could ("error=a;error=b": rule 2 can never apply).
//
// # Adding a fault kind
//
// A new call fault takes one file here and one case where it is applied:
//
//   - kindname.go: the type, its settings as exported fields and a doc
//     comment saying what the client observes; its kind and text methods
//     (the name and the text form, which Parse must read back); set, which
//     reads the kind's value and settings (noValue for a kind with none);
//     and check, if its settings depend on each other.
//   - its zero value in the list returned by kinds (fault.go), which gives
//     Parse its name and puts it in the "want delay, error, ..." message.
//   - its case in the server codec's apply (internal/inject/codec.go).
//     Faults of the outcome part need nothing else: the engine decides
//     them like any other.
//
// A connection fault, applied by the server's accept loop rather than to
// a call, also needs its part in partOf (part.go and internal/inject),
// the targeting keys it allows in allowed (rule.go), and its case in
// package fleet's server.
package faults
