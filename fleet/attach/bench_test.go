package attach_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rpcfleet/rpcfleet/experiment"
	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/internal/supervise"
)

// BenchmarkExperiment runs one experiment (20 servers, 200 fan-outs of
// wait-all, 1ms on every call, 4 in flight) on an in-process fleet and on
// a fleet attached to 20 rpcfleet serve processes, in the same run: the
// ratio of the two is the overhead of attaching (BENCHMARKS.md). The
// processes start once, outside the timing; each run attaches afresh.
func BenchmarkExperiment(b *testing.B) {
	const n = 20
	sc := &experiment.Scenario{Name: "bench", Servers: n, Seed: 1, Rounds: 200, InFlight: 4, Timeout: 2 * time.Second,
		Strategies: []experiment.Strategy{{Name: "wait-all"}}}
	sc.Faults.Plan = mustParse(b, "delay=1ms")
	run := func(b *testing.B, opts ...experiment.Option) {
		for b.Loop() {
			rep, err := experiment.Run(b.Context(), sc, nil, opts...)
			if err != nil || rep.Results[0].Succeeded != sc.Rounds {
				b.Fatalf("%v, %+v", err, rep)
			}
		}
	}
	b.Run("inprocess", func(b *testing.B) { run(b) })
	b.Run("attached", func(b *testing.B) {
		bn, err := bin()
		if err != nil {
			b.Fatal(err)
		}
		g, err := supervise.Start(context.Background(), bn, n, time.Second, "--fleet-id", "bench")
		if err != nil {
			b.Fatal(err)
		}
		defer g.Stop()
		attached := *sc
		attached.Attach = strings.Join(g.Controls(), ",")
		sc = &attached
		run(b, experiment.WithFleet(fleet.WithFleetID("bench")))
	})
}

func mustParse(b *testing.B, s string) faults.Plan {
	p, err := faults.Parse(s)
	if err != nil {
		b.Fatal(err)
	}
	return p
}
