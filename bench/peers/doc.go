// Package peers holds the fan-outs a team would write instead of using
// rpcfleet's reference caller, for the benchmarks that compare them with
// it (and with the hand-written floor), and for the conformance specs
// that show they are correct peers, not strawmen: Errgroup, on
// golang.org/x/sync/errgroup, and Conc, on github.com/sourcegraph/conc's
// pool. Both keep one connection per address across fan-outs (a Pool).
//
// The package's benchmarks also measure rpcfleet's fault path beside
// Toxiproxy's (github.com/Shopify/toxiproxy/v2, run in process on
// 127.0.0.1). It is a module of its own, so that rpcfleet's main module
// depends on none of the three: run it with `make bench-peers`.
package peers
