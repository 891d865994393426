// Package caller is the reference fan-out caller: it sends one net/rpc call
// to each of many addresses at once, one goroutine per address joined by a
// sync.WaitGroup, and returns one Result per address in input order.
//
// A Caller keeps one rpc.Client per address (dialled with a timeout and
// reused across fan-outs), bounds each call with a timeout and with the
// fan-out's ctx on top of rpc.Client.Go, and reports failures in a
// *FanOutError naming every failed address. It knows addresses only, never
// a fleet, so it works against any net/rpc servers.
//
// A Caller is safe for concurrent use by many fan-outs; the caller must
// Close it, which closes every connection it opened.
package caller
