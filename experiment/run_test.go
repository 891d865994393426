package experiment

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/fleet/driver"
)

// The shipped scenarios, shortened, against the figures they promise. The
// bounds hold on a loaded two-core machine: noise can only make fan-outs
// slower, so each bound leaves room on the side noise pushes towards.

func load(t *testing.T, name string) *Scenario {
	t.Helper()
	sc, err := Load("../scenarios/" + name + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func result(t *testing.T, rep *Report, name string) Result {
	t.Helper()
	for _, r := range rep.Results {
		if r.Strategy == name {
			return r
		}
	}
	t.Fatalf("no result for %q", name)
	return Result{}
}

func TestTailAtScale(t *testing.T) {
	sc := load(t, "tail-at-scale")
	// The same arithmetic, with the slow calls 400x slower than the rest
	// rather than 100x, and a fan-out counted slow only when it took
	// nearly the whole 400ms, which every wait-all fan-out that meets a
	// slow call does. Noise (the race detector, other packages' tests and
	// the compiler on two cores) can stretch a normal fan-out to 150ms
	// or more; it must not be counted as a slow one that hedging missed.
	sc.Faults = Plan{faults.MustParse("delay=400ms,p=0.01;delay=1ms")}
	sc.Slow = 390 * time.Millisecond
	sc.Rounds, sc.InFlight = 200, 8
	rep, err := Run(context.Background(), sc, nil)
	if err != nil {
		t.Fatal(err)
	}
	all, hedged := result(t, rep, "wait-all"), result(t, rep, "hedged")
	t.Logf("wait-all: slow %.1f%% p50 %v p99 %v; hedged: slow %.1f%% p50 %v p99 %v extra %.2f%%",
		100*all.SlowRate(), all.P50, all.P99, 100*hedged.SlowRate(), hedged.P50, hedged.P99, hedged.ExtraPct())
	// 1 - 0.99^100 = 63% of fan-outs meet a slow call. Five standard
	// deviations below (200 rounds: sd 3.4%), more room above for noise.
	if s := all.SlowRate(); s < 0.46 || s > 0.85 {
		t.Errorf("wait-all: %.1f%% of fan-outs slow, want about 63%%", 100*s)
	}
	if all.P50 < 400*time.Millisecond {
		t.Errorf("wait-all p50 %v: most fan-outs should wait for a slow call (400ms)", all.P50)
	}
	if s := hedged.SlowRate(); s > all.SlowRate()/3 {
		t.Errorf("hedged: %.1f%% slow, want far fewer than wait-all's %.1f%%", 100*s, 100*all.SlowRate())
	}
	// The median hedged fan-out meets no slow call: it is not slow. (Half
	// of wait-all's median was too tight a bound: with two busy loops
	// beside make test, normal fan-outs took 207ms against 413ms.)
	if hedged.P50 >= sc.Slow {
		t.Errorf("hedged p50 %v, want under the %v of a slow fan-out (wait-all's p50 %v)", hedged.P50, sc.Slow, all.P50)
	}
	if e := hedged.ExtraPct(); e <= 0 || e > 25 {
		t.Errorf("hedged sent %.2f%% extra calls, want a few percent", e)
	}
	if all.Succeeded != all.Rounds || hedged.Succeeded != hedged.Rounds {
		t.Errorf("failures: %+v %+v", all.Errors, hedged.Errors)
	}
}

func TestPartialOutage(t *testing.T) {
	sc := load(t, "partial-outage")
	sc.Rounds = 24
	rep, err := Run(context.Background(), sc, nil)
	if err != nil {
		t.Fatal(err)
	}
	all, ff, q := result(t, rep, "wait-all"), result(t, rep, "fail-fast"), result(t, rep, "quorum")
	if all.SuccessRate() != 0 || ff.SuccessRate() != 0 {
		t.Errorf("with 10%% of servers hanging, wait-all and fail-fast succeed %.0f%% and %.0f%%, want 0",
			100*all.SuccessRate(), 100*ff.SuccessRate())
	}
	if q.SuccessRate() != 1 {
		t.Errorf("quorum of 45 of 50 succeeded %.0f%%, want 100%% (errors %v)", 100*q.SuccessRate(), q.Errors)
	}
	if all.P50 < sc.Timeout {
		t.Errorf("wait-all p50 %v, want at least the timeout %v", all.P50, sc.Timeout)
	}
	if q.P50 >= sc.Timeout/2 {
		t.Errorf("quorum p50 %v, want far below the timeout %v", q.P50, sc.Timeout)
	}
	// 5 of 50 servers hang: wait-all sees 5 timeouts per fan-out.
	if got, want := all.Errors["timeout"], 5*all.Rounds; got != want {
		t.Errorf("wait-all timeouts %d, want %d", got, want)
	}
}

func TestRetryStorm(t *testing.T) {
	sc := load(t, "retry-storm")
	sc.Duration = 800 * time.Millisecond // the outage (1s) covers the whole run
	rep, err := Run(context.Background(), sc, nil)
	if err != nil {
		t.Fatal(err)
	}
	none, retry, budget := result(t, rep, "no-retry"), result(t, rep, "retry"), result(t, rep, "retry-budget")
	t.Logf("extra calls: no-retry %.1f%%, retry %.1f%%, retry-budget %.1f%%", none.ExtraPct(), retry.ExtraPct(), budget.ExtraPct())
	if none.ExtraPct() != 0 {
		t.Errorf("no-retry sent %.1f%% extra", none.ExtraPct())
	}
	// Five attempts per call while every server fails: four extra calls
	// per call, 400%.
	if e := retry.ExtraPct(); e < 300 {
		t.Errorf("retry without a budget sent %.1f%% extra calls into the outage, want about 400%%", e)
	}
	if e := budget.ExtraPct(); e > 20 {
		t.Errorf("retry with a budget sent %.1f%% extra calls, want the budget to stop the storm", e)
	}
}

func TestInterruptKeepsTheFiguresSoFar(t *testing.T) {
	sc := load(t, "tail-at-scale")
	sc.Rounds = 100000
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	rep, err := Run(ctx, sc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("Run took %v after its ctx ended", took)
	}
	if !rep.Interrupted || len(rep.Results) != 1 {
		t.Fatalf("report %+v, want interrupted with the first strategy's figures", rep)
	}
	if r := rep.Results[0]; r.Rounds == 0 || r.Rounds >= sc.Rounds || r.Latency.TotalCount() != int64(r.Rounds) {
		t.Errorf("figures so far: %d rounds, %d latencies", r.Rounds, r.Latency.TotalCount())
	}
}

// backend: memory runs the strategies on the in-memory transport, and
// refuses a fan-out of the user's, which could not reach it.
func TestMemoryBackend(t *testing.T) {
	sc := load(t, "tail-at-scale")
	sc.Backend, sc.Servers, sc.Rounds, sc.InFlight = "memory", 2_000, 2, 1
	sc.Faults = Plan{faults.MustParse("error=boom,servers=7")}
	rep, err := Run(context.Background(), sc, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Results {
		if r.Rounds != 2 || r.Calls != 4_000 || r.Errors["error-reply"] != 2 {
			t.Errorf("%s: %d rounds, %d calls, errors %v; want 2 rounds of 2,000 calls, server 7's error reply in each", r.Strategy, r.Rounds, r.Calls, r.Errors)
		}
	}
	_, err = Run(context.Background(), sc, nil, WithFanOut("mine", func(context.Context, []string) error { return nil }))
	if err == nil || !strings.Contains(err.Error(), "cannot reach an in-memory fleet") {
		t.Errorf("a fan-out of the user's on backend memory: %v, want it refused", err)
	}
}

// A fleet that fails to stop costs no figure: Run returns the whole
// report, every strategy's, and an error naming each strategy whose
// fleet failed.
func TestRunKeepsFiguresWhenAFleetFailsToStop(t *testing.T) {
	sc := &Scenario{Name: "stop", Servers: 3, Seed: 1, Rounds: 5, InFlight: 1, Timeout: time.Second,
		Strategies: []Strategy{{Name: "wait-all"}, {Name: "quorum", Quorum: 2}}}
	rep, err := Run(t.Context(), sc, nil, WithFleet(fleet.WithBackend(stopFails{fleet.InProcess()})))
	if rep == nil || len(rep.Results) != 2 {
		t.Fatalf("report %+v, want two results", rep)
	}
	for _, r := range rep.Results {
		if r.Rounds != 5 || r.Succeeded != 5 {
			t.Errorf("%s: %d rounds, %d succeeded; want 5 and 5", r.Strategy, r.Rounds, r.Succeeded)
		}
	}
	for _, want := range []string{"experiment: wait-all: stop its fleet: stuck", "experiment: quorum: stop its fleet: stuck"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want it to say %q", err, want)
		}
	}
}

// stopFails is the in-process backend whose fleets stop, then say they
// could not.
type stopFails struct{ driver.Backend }

func (b stopFails) Start(ctx context.Context, cfg driver.Config) (driver.Cluster, error) {
	c, err := b.Backend.Start(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return stopFailsCluster{c}, nil
}

type stopFailsCluster struct{ driver.Cluster }

func (c stopFailsCluster) Stop(ctx context.Context) error {
	return errors.Join(c.Cluster.Stop(ctx), errors.New("stuck"))
}
