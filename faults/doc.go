// Package faults describes misbehaviour for net/rpc servers and applies it.
//
// A Plan is an ordered list of Rules; each Rule pairs a Fault (one of thirteen
// kinds, one per file: Delay, Error, Hang, Drop, Reset, Corrupt, Truncate,
// Throttle, Slice, Refuse, SlowAccept, Blackhole, Crash) with the calls it applies to:
// servers, method, call numbers, a per-call probability and a time window. An Engine decides, call by
// call, which rule applies, drawing every random number from a PRNG seeded
// with the fleet seed and the server index, so the same seed and the same
// per-server call order give the same decisions. NewServerCodec applies the
// decisions inside a gob rpc.ServerCodec, so faults work for any receiver
// registered on the server.
//
// Plans have a text form, rules separated by ';', each
// kind[=value][,key=value...]:
//
//	delay=50ms,jitter=10ms
//	error=boom,p=0.25
//	hang
//
// Parse reads it and Plan.String writes it back.
package faults
