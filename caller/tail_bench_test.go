package caller_test

// BenchmarkTail is the tail case of "The Tail at Scale" (Dean and Barroso,
// CACM 2013): a fan-out to 100 servers where 1% of calls are 100x slower
// than normal (1ms, and 100ms with probability 0.01, rolled per call). A
// fan-out waits for its slowest call, so most fan-outs that wait for all
// hit a slow one (1 - 0.99^100 = 63%). Hedging sends a backup call to
// another server when a call has not answered after the 0.95-quantile of
// recent latencies (at most two per call, within a retry budget).
//
// Every op runs one wait-all and one hedged fan-out back to back on the
// same fleet, in alternating order, so that the load of a shared machine
// hits both alike. The metrics are the p50 and p99 of each one's fan-out
// latency over the ops, the extra calls the hedged one sent (hedges, as a
// percentage of its 100 calls per fan-out), and hedged p99 / wait-all p99.
// See BENCHMARKS.md for the command and figures.

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/rpcfleet/rpcfleet/caller"
	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
)

const (
	tailServers = 100
	tailPlan    = "delay=100ms,p=0.01;delay=1ms"
)

func BenchmarkTail(b *testing.B) {
	ctx := context.Background()
	f, err := fleet.Start(ctx, fleet.WithServers(tailServers), fleet.WithSeed(1),
		fleet.WithFaults(faults.MustParse(tailPlan)), fleet.WithJournalLimit(1))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := f.Stop(ctx); err != nil {
			b.Error(err)
		}
	})
	waitAll := caller.New()
	defer waitAll.Close()
	hedged := caller.New(caller.WithHedgeQuantile(0.95, 2), caller.WithBudget(caller.NewBudget(100, 0.1)))
	defer hedged.Close()
	addrs := f.Addrs()
	args := fleet.Args{Name: "tail"}

	// fanOut returns the fan-out's latency and the calls it sent.
	fanOut := func(c *caller.Caller) (time.Duration, int) {
		start := time.Now()
		results, err := caller.FanOut[fleet.Args, fleet.Reply](ctx, c, addrs, "Service.Method", args)
		took := time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		sent := 0
		for _, r := range results {
			sent += r.Attempts
		}
		return took, sent
	}
	// Warm up: dial every connection and fill the latency window hedging
	// reads its quantile from.
	for range 5 {
		fanOut(waitAll)
		fanOut(hedged)
	}
	var waitAllNs, hedgedNs []time.Duration
	sent := 0
	b.ResetTimer()
	for i := range b.N {
		var w, h time.Duration
		var n int
		if i%2 == 0 {
			w, _ = fanOut(waitAll)
			h, n = fanOut(hedged)
		} else {
			h, n = fanOut(hedged)
			w, _ = fanOut(waitAll)
		}
		waitAllNs, hedgedNs = append(waitAllNs, w), append(hedgedNs, h)
		sent += n
	}
	b.StopTimer()
	slices.Sort(waitAllNs)
	slices.Sort(hedgedNs)
	b.ReportMetric(ms(quantile(waitAllNs, 0.50)), "waitall-p50-ms")
	b.ReportMetric(ms(quantile(waitAllNs, 0.99)), "waitall-p99-ms")
	b.ReportMetric(ms(quantile(hedgedNs, 0.50)), "hedged-p50-ms")
	b.ReportMetric(ms(quantile(hedgedNs, 0.99)), "hedged-p99-ms")
	b.ReportMetric(100*float64(sent-b.N*tailServers)/float64(b.N*tailServers), "hedged-extra-%")
	b.ReportMetric(float64(quantile(hedgedNs, 0.99))/float64(quantile(waitAllNs, 0.99)), "p99-hedged/waitall")
}

// quantile returns the q-quantile (nearest rank) of sorted durations.
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
