package experiment

import (
	"context"
	"testing"
	"time"

	"github.com/rpcfleet/rpcfleet/faults"
)

// BenchmarkExperiment10k runs an experiment of 10,000 fan-outs over 100
// in-process servers (1ms delay on every call, 16 fan-outs in flight, one
// wait-all strategy): a million calls. One op is the whole experiment.
//
//	go test -run '^$' -bench Experiment10k -benchtime 1x -count 3 ./experiment
func BenchmarkExperiment10k(b *testing.B) {
	sc := &Scenario{
		Name: "bench", Servers: 100, Backend: "inprocess", Seed: 1, Rounds: 10000, InFlight: 16,
		Timeout: 5 * time.Second, Faults: Plan{faults.MustParse("delay=1ms")},
		Strategies: []Strategy{{Name: "wait-all"}},
	}
	for b.Loop() {
		rep, err := Run(context.Background(), sc, nil)
		if err != nil {
			b.Fatal(err)
		}
		r := rep.Results[0]
		if r.Rounds != 10000 || r.Succeeded != 10000 {
			b.Fatalf("%d rounds, %d ok", r.Rounds, r.Succeeded)
		}
		b.ReportMetric(float64(r.Wall.Milliseconds()), "wall-ms")
		b.ReportMetric(float64(r.Rounds)/r.Wall.Seconds(), "fanouts/s")
	}
}

// BenchmarkTailAtScale10kLeaves runs scenarios/tail-at-scale.yaml on
// 10,000 servers of the in-memory transport, 50 fan-outs per strategy
// (wait-all, then hedged): a million calls and more. One op is the whole
// experiment, as `rpcfleet run scenarios/tail-at-scale.yaml --backend
// memory --servers 10000 --rounds 50` runs it.
//
//	go test -run '^$' -bench TailAtScale10kLeaves -benchtime 1x -count 3 ./experiment
func BenchmarkTailAtScale10kLeaves(b *testing.B) {
	sc, err := Load("../scenarios/tail-at-scale.yaml")
	if err != nil {
		b.Fatal(err)
	}
	sc.Backend, sc.Servers, sc.Rounds = "memory", 10_000, 50
	for b.Loop() {
		start := time.Now()
		rep, err := Run(context.Background(), sc, nil)
		if err != nil {
			b.Fatal(err)
		}
		all, hedged := rep.Results[0], rep.Results[1]
		b.ReportMetric(time.Since(start).Seconds(), "wall-s")
		b.ReportMetric(float64(all.Succeeded+hedged.Succeeded)/float64(2*sc.Rounds), "ok-share")
		b.ReportMetric(float64(all.P50.Milliseconds()), "wait-all-p50-ms")
		b.ReportMetric(float64(hedged.P50.Milliseconds()), "hedged-p50-ms")
	}
}
