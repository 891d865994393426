package peers

import (
	"context"
	"fmt"
	"net/rpc"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/rpcfleet/rpcfleet/caller"
	"github.com/rpcfleet/rpcfleet/fleet"
)

// BenchmarkFanOut measures one whole fan-out to 1,000 warm in-process
// servers (no faults) four ways, interleaved: every op runs each of them
// once, back to back, starting with a different one op by op (rotated),
// so that the load of a shared machine hits all alike:
//
//	floor     pre-dialled rpc.Clients, one Client.Go each from a single
//	          goroutine, then a wait for every Done (caller/bench_test.go's)
//	caller    the reference caller, caller.FanOut, warm
//	errgroup  Errgroup, warm
//	conc      Conc, warm
//
// Each has its own connections, dialled by one fan-out before the timer
// starts. Metrics are medians over ops: each one's time (X-ns), its
// per-op ratio to the floor's (X/floor) and its heap allocations per
// fan-out (X-allocs, read from runtime.MemStats around it, outside its
// time; they include the in-process servers' allocations for its calls,
// the same for all four). The fleet's journal keeps only its last page.
//
//	go test -run '^$' -bench FanOut -benchtime 40x -count 5
func BenchmarkFanOut(b *testing.B) {
	const n = 1000
	ctx := context.Background()
	f, err := fleet.Start(ctx, fleet.WithServers(n), fleet.WithJournalLimit(1))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := f.Stop(context.Background()); err != nil {
			b.Error(err)
		}
	})
	addrs := f.Addrs()
	args := fleet.Args{Name: "bench"}

	clients := make([]*rpc.Client, n)
	for i, addr := range addrs {
		if clients[i], err = rpc.Dial("tcp", addr); err != nil {
			b.Fatal(err)
		}
	}
	defer func() {
		for _, cl := range clients {
			cl.Close()
		}
	}()
	calls := make([]*rpc.Call, n)
	floor := func() error {
		replies := make([]fleet.Reply, n)
		for i, cl := range clients {
			calls[i] = cl.Go("Service.Method", args, &replies[i], make(chan *rpc.Call, 1))
		}
		for i, call := range calls {
			<-call.Done
			if call.Error != nil {
				return fmt.Errorf("%s: %w", addrs[i], call.Error)
			}
		}
		return nil
	}
	c := caller.New()
	defer c.Close()
	ref := func() error {
		_, err := caller.FanOut[fleet.Args, fleet.Reply](ctx, c, addrs, "Service.Method", args)
		return err
	}
	eg := NewErrgroup(5 * time.Second)
	defer eg.Close()
	group := func() error {
		_, err := eg.FanOut(ctx, addrs, args)
		return err
	}
	cc := NewConc(5 * time.Second)
	defer cc.Close()
	conc := func() error {
		_, err := cc.FanOut(ctx, addrs, args)
		return err
	}
	fanOuts := []struct {
		name string
		run  func() error
	}{{"floor", floor}, {"caller", ref}, {"errgroup", group}, {"conc", conc}}

	// Warm up: dial every connection (gob sends its type information once
	// per connection). A fan-out whose dials time out on a loaded machine
	// is run again: each pool redials what failed.
	for _, fo := range fanOuts {
		for try := 1; ; try++ {
			err := fo.run()
			if err == nil {
				break
			}
			if try == 5 {
				b.Fatalf("%s: warm-up: %v", fo.name, err)
			}
		}
	}
	ns := make([][]float64, len(fanOuts))
	allocs := make([][]float64, len(fanOuts))
	var before, after runtime.MemStats
	b.ResetTimer()
	for op := range b.N {
		for k := range fanOuts {
			j := (op + k) % len(fanOuts)
			runtime.ReadMemStats(&before)
			t0 := time.Now()
			err := fanOuts[j].run()
			d := time.Since(t0)
			runtime.ReadMemStats(&after)
			if err != nil {
				b.Fatalf("%s: %v", fanOuts[j].name, err)
			}
			ns[j] = append(ns[j], float64(d.Nanoseconds()))
			allocs[j] = append(allocs[j], float64(after.Mallocs-before.Mallocs))
		}
	}
	b.StopTimer()
	for j, fo := range fanOuts {
		if j > 0 {
			ratios := make([]float64, len(ns[j]))
			for op := range ns[j] {
				ratios[op] = ns[j][op] / ns[0][op]
			}
			b.ReportMetric(median(ratios), fo.name+"/floor")
		}
		b.ReportMetric(median(ns[j]), fo.name+"-ns")
		b.ReportMetric(median(allocs[j]), fo.name+"-allocs")
	}
}

// median returns the median of xs, which it sorts; 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	m := len(xs) / 2
	if len(xs)%2 == 1 {
		return xs[m]
	}
	return (xs[m-1] + xs[m]) / 2
}
