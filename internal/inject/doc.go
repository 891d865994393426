// Package inject applies a faults.Plan to one running net/rpc server.
//
// An Engine decides, call by call and connection by connection, which
// rules of the plan apply on its server: at most one delay and at most one
// outcome per call, at most one SlowAccept per connection, and the windows
// during which Refuse and Blackhole rules hold. Every random draw comes
// from a PRNG seeded with the fleet seed and the server index, so a run
// can be replayed.
//
// NewServerCodec applies a call's decision inside a gob rpc.ServerCodec,
// so faults work for any receiver registered on the server, and reports
// the life of every call to a Recorder (the fleet's journal). Connection
// faults are applied by the server's own accept loop (package fleet),
// which asks the Engine for them.
//
// Package faults is the vocabulary users write plans in; this package is
// the machinery behind it and is not part of rpcfleet's API.
package inject
