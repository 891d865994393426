// Package caller is the reference fan-out caller: it sends one net/rpc call
// to each of many addresses and returns one Result per address in input
// order.
//
// By default every call starts at once and FanOut waits for all of them:
// the seed article's semantics. Requests on connections already open are
// written by FanOut itself, one after another, and FanOut takes their
// replies as they come from one channel they all share, as a hand-written
// loop over rpc.Client.Go would (net/rpc's own reader goroutine per
// connection does the waiting); an address that needs a dial gets a
// goroutine of its own, joined by a sync.WaitGroup. That is cheaper than
// 1,000 goroutines writing and waiting at once (BENCHMARKS.md). Options of
// New add strategies, which compose: WithConcurrency (at most c calls in
// flight), WithFailFast (the first failure cancels the rest), WithQuorum
// (return after k successes), WithHedge and WithHedgeQuantile (backup calls
// to another address of the same group, WithGroups, when a call is slow;
// the first reply wins), WithRetry (exponential backoff with full jitter
// and a cap) and WithBudget (a token bucket shared by retries and hedges,
// so an outage cannot become a retry storm).
//
// A Caller keeps one rpc.Client per address (dialled with a timeout,
// redialled after rpc.ErrShutdown or a broken connection, retired once it
// holds too many abandoned calls or once idle beyond WithMaxConns),
// bounds each call with a timeout and with the fan-out's ctx on top of
// rpc.Client.Go, and reports failures in a
// *FanOutError naming exactly the failed addresses; calls a strategy
// cancelled are marked in their Result and are not failures. It knows
// addresses only, never a fleet, so it works against any net/rpc servers.
//
// It speaks every transport of the standard library (WithProtocol): gob
// on the bare connection, as rpc.Dial (the default); net/rpc over HTTP,
// as rpc.DialHTTP (a CONNECT handshake on rpc.DefaultRPCPath, then gob);
// and JSON-RPC 1.0, as jsonrpc.Dial. Pool, strategies and error types are
// the same on each: an error reply is an rpc.ServerError on every one. An
// address containing a '/' is a unix socket path ("/run/app.sock",
// "./app.sock"); any other is a TCP host:port, which never contains a
// '/'. WithDialer replaces both.
//
// A Caller is safe for concurrent use by many fan-outs; the caller must
// Close it, which closes every connection it opened and ends every fan-out
// in flight; goroutines of rpc.Client readers and of dials in progress end
// soon after it returns. No goroutine of a fan-out outlives the fan-out.
package caller
