// Package faults describes misbehaviour for net/rpc servers and applies it.
//
// A Plan is an ordered list of Rules; each Rule pairs a Fault (one of thirteen
// kinds, one per file: Delay, Error, Hang, Drop, Reset, Corrupt, Truncate,
// Throttle, Slice, Refuse, SlowAccept, Blackhole, Crash) with the calls it applies to:
// servers, method, call numbers, a per-call probability and a time window.
//
// An Engine decides, call by call, which rules apply. A call's decision has
// two parts: at most one delay, from the first Delay rule that applies, and
// at most one outcome, from the first rule of any other call fault that
// applies. Both apply: "delay=300ms;error=boom" answers with the error
// "boom" no sooner than 300ms after the request arrived, "delay=300ms;drop"
// drops the connection then. Connection faults are decided apart: each
// connection gets the first SlowAccept rule that applies, and every Refuse
// and Blackhole rule holds in its window. Every random number is drawn from a PRNG
// seeded with the fleet seed and the server index, in plan order and only
// by rules that can still apply (see Engine.Decide), so the same seed and
// the same per-server call order give the same decisions. NewServerCodec
// applies the decisions inside a gob rpc.ServerCodec, so faults work for
// any receiver registered on the server.
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
package faults
