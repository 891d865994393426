package peers

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// fanOuter is what Errgroup and Conc have in common.
type fanOuter interface {
	FanOut(ctx context.Context, addrs []string, args fleet.Args) ([]Result, error)
	Close() error
}

// conformer adapts a peer to suites.FanOuter, its Close included.
func conformer(p fanOuter) suites.FanOuter {
	return suites.Closing(func(ctx context.Context, addrs []string, args fleet.Args) ([]suites.Result, error) {
		results, err := p.FanOut(ctx, addrs, args)
		out := make([]suites.Result, len(results))
		for i, r := range results {
			out[i] = suites.Result{Addr: r.Addr, Reply: r.Reply, Err: r.Err, Latency: r.Latency}
		}
		return out, err
	}, p.Close)
}

// The peers of BenchmarkFanOut claim every behaviour the suite knows, as
// the reference caller does: they are correct fan-outs, not strawmen.
var _ = Describe("the errgroup fan-out", Label("peers"), func() {
	suites.Conformance(func(timeout time.Duration) suites.FanOuter {
		return conformer(NewErrgroup(timeout))
	}, suites.TimesOut(), suites.HonoursCancel(), suites.KeepsInputOrder(), suites.AggregatesErrors())
})

var _ = Describe("the conc fan-out", Label("peers"), func() {
	suites.Conformance(func(timeout time.Duration) suites.FanOuter {
		return conformer(NewConc(timeout))
	}, suites.TimesOut(), suites.HonoursCancel(), suites.KeepsInputOrder(), suites.AggregatesErrors())
})
