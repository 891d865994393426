package fanout_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rpcfleet/rpcfleet/examples/kv/fanout"
	"github.com/rpcfleet/rpcfleet/examples/kv/kv"
	"github.com/rpcfleet/rpcfleet/examples/kv/kvtest"
	"github.com/rpcfleet/rpcfleet/experiment"
	"github.com/rpcfleet/rpcfleet/faults"
)

// The tail-at-scale scenario against the team's KV fan-out and against
// the reference caller's strategies on KV.Get, in one report: waiting for
// every shard pays the tail on most fan-outs, hedging cuts it off.
func TestTailAtScaleOnKV(t *testing.T) {
	sc, err := experiment.Load("../../../scenarios/tail-at-scale.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Shortened, and as in experiment's TestTailAtScale the slow calls are
	// 400x slower than the rest rather than 100x, a fan-out counted slow
	// only when it waited for nearly a whole slow call: noise on a loaded
	// two-core machine can stretch a normal fan-out to 150ms or more, and
	// must not be counted as a slow one.
	sc.Faults = experiment.Plan{Plan: faults.MustParse("delay=400ms,p=0.01;delay=1ms")}
	sc.Slow = 390 * time.Millisecond
	sc.Rounds, sc.InFlight = 100, 8

	c := fanout.New(2 * time.Second)
	defer c.Close()
	mine := func(ctx context.Context, addrs []string) error {
		_, err := c.Get(ctx, addrs, "k")
		return err
	}
	rep, err := experiment.Run(t.Context(), sc, nil,
		experiment.WithFleet(kvtest.Get.Service), // shards with a value of every key
		experiment.WithCall[kv.GetArgs, kv.GetReply]("KV.Get", kv.GetArgs{Key: "k"}),
		experiment.WithFanOut("kv-fanout", mine))
	if err != nil {
		t.Fatal(err)
	}
	var table strings.Builder
	if err := rep.Write(&table, "table"); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", table.String())

	byName := map[string]experiment.Result{}
	for _, r := range rep.Results {
		byName[r.Strategy] = r
	}
	all, hedged, team := byName["wait-all"], byName["hedged"], byName["kv-fanout"]
	if len(rep.Results) != 3 || team.Rounds != sc.Rounds {
		t.Fatalf("results %v, want wait-all, hedged and kv-fanout, %d rounds each", rep.Results, sc.Rounds)
	}
	// Every fan-out asked every shard for a key it holds.
	for _, r := range rep.Results {
		if r.Succeeded != r.Rounds {
			t.Errorf("%s: %d of %d fan-outs succeeded (errors %v)", r.Strategy, r.Succeeded, r.Rounds, r.Errors)
		}
	}
	// 1 - 0.99^100 = 63% of fan-outs meet a slow call; the team's fan-out
	// waits for every one of them, as wait-all does. Wide bounds.
	for _, r := range []experiment.Result{all, team} {
		if s := r.SlowRate(); s < 0.4 || s > 0.9 {
			t.Errorf("%s: %.1f%% of fan-outs slow, want about 63%%", r.Strategy, 100*s)
		}
	}
	// Hedging leaves a few percent slow on a quiet machine; the bound is
	// half, as load on two cores stretches the latencies hedging learns
	// from and delays its backup calls.
	if s := hedged.SlowRate(); s > all.SlowRate()/2 || s > team.SlowRate()/2 {
		t.Errorf("hedged: %.1f%% slow, want far fewer than wait-all's %.1f%% and kv-fanout's %.1f%%",
			100*s, 100*all.SlowRate(), 100*team.SlowRate())
	}
}
