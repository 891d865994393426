package caller_test

// Benchmarks of one whole fan-out to 10, 100 and 1,000 warm in-process
// servers with no faults, for three implementations measured in the same
// run:
//
//	BenchmarkFanOut       the reference caller, warm (connections pooled)
//	BenchmarkSeedFanOut   the seed article's pattern: dial per call
//	BenchmarkFloorFanOut  the hand-written floor: pre-dialled rpc.Clients,
//	                      one Client.Go each, wait for every Done
//
// One op is one fan-out to every server. ns/call is ns/op divided by the
// number of servers. BenchmarkPaired interleaves the caller and the floor
// at 1,000 servers and reports their ratio; bench/peers's BenchmarkFanOut
// interleaves them with errgroup and conc fan-outs. See BENCHMARKS.md for
// the commands and the figures.

import (
	"context"
	"fmt"
	"net/rpc"
	"slices"
	"testing"
	"time"

	"github.com/rpcfleet/rpcfleet/caller"
	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/internal/seed"
)

var benchSizes = []int{10, 100, 1000}

// startBenchFleet starts n servers with no faults and stops them when the
// benchmark ends. Its journal keeps only the last page of calls
// (fleet.WithJournalLimit), so that memory stays flat over any number of
// fan-outs with no reset between them: a reset after each fan-out, when
// ResetCalls still went server by server and copied the journal 1,000
// times on 1,000 servers, took most of a benchmark's CPU, and its garbage
// collections ran into the timed fan-outs.
func startBenchFleet(b *testing.B, n int) *fleet.Fleet {
	b.Helper()
	f, err := fleet.Start(context.Background(), fleet.WithServers(n), fleet.WithJournalLimit(1))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := f.Stop(context.Background()); err != nil {
			b.Error(err)
		}
	})
	return f
}

// warmUp makes c dial every address. A fan-out whose dials time out on an
// overloaded machine is retried: the pool redials what failed.
func warmUp(b *testing.B, ctx context.Context, c *caller.Caller, addrs []string) {
	b.Helper()
	var err error
	for range 5 {
		if _, err = caller.FanOut[fleet.Args, fleet.Reply](ctx, c, addrs, "Service.Method", fleet.Args{Name: "warm-up"}); err == nil {
			return
		}
	}
	b.Fatal(err)
}

// reportPerCall adds ns/call: the fan-out's ns/op spread over its n calls.
func reportPerCall(b *testing.B, n int) {
	if b.N > 0 {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/call")
	}
}

func BenchmarkFanOut(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("servers=%d", n), func(b *testing.B) {
			f := startBenchFleet(b, n)
			addrs := f.Addrs()
			ctx := context.Background()
			c := caller.New()
			defer c.Close()
			args := fleet.Args{Name: "bench"}

			// Warm up: dial every connection once.
			warmUp(b, ctx, c, addrs)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				res, err := caller.FanOut[fleet.Args, fleet.Reply](ctx, c, addrs, "Service.Method", args)
				if err != nil {
					b.Fatal(err)
				}
				if len(res) != n {
					b.Fatalf("got %d results, want %d", len(res), n)
				}
			}
			b.StopTimer()
			reportPerCall(b, n)
		})
	}
}

func BenchmarkSeedFanOut(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("servers=%d", n), func(b *testing.B) {
			f := startBenchFleet(b, n)
			addrs := f.Addrs()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				msgs, errs := seed.FanOut(addrs, "bench")
				if len(errs) > 0 {
					b.Fatalf("%d errors, first: %v", len(errs), errs[0])
				}
				if len(msgs) != n {
					b.Fatalf("got %d messages, want %d", len(msgs), n)
				}
			}
			b.StopTimer()
			reportPerCall(b, n)
		})
	}
}

func BenchmarkFloorFanOut(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("servers=%d", n), func(b *testing.B) {
			f := startBenchFleet(b, n)
			addrs := f.Addrs()
			clients := make([]*rpc.Client, n)
			for i, addr := range addrs {
				cl, err := rpc.Dial("tcp", addr)
				if err != nil {
					b.Fatal(err)
				}
				clients[i] = cl
			}
			defer func() {
				for _, cl := range clients {
					cl.Close()
				}
			}()
			args := fleet.Args{Name: "bench"}
			calls := make([]*rpc.Call, n)

			// Warm up every connection (gob type info is sent once per
			// connection), as the caller's warm-up fan-out does.
			fanOut := func() {
				replies := make([]fleet.Reply, n)
				for i, cl := range clients {
					calls[i] = cl.Go("Service.Method", args, &replies[i], make(chan *rpc.Call, 1))
				}
				for i, call := range calls {
					<-call.Done
					if call.Error != nil {
						b.Fatalf("%s: %v", addrs[i], call.Error)
					}
				}
			}
			fanOut()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				fanOut()
			}
			b.StopTimer()
			reportPerCall(b, n)
		})
	}
}

// BenchmarkPaired measures the ratio the tighter target is about on a
// noisy machine: every op runs one floor fan-out and one caller fan-out
// back to back on the same fleet, in alternating order, so that slow
// drifts in the machine's load hit both alike. ns/op is the pair; the
// metrics are the medians over ops of each one's time and of the per-op
// ratio caller/floor. Both sets of connections stay open throughout, so
// the servers and the GC see twice the connections and goroutines of the
// single benchmarks, and both times run somewhat higher than there.
func BenchmarkPaired(b *testing.B) {
	for _, n := range []int{1000} {
		b.Run(fmt.Sprintf("servers=%d", n), func(b *testing.B) {
			f := startBenchFleet(b, n)
			addrs := f.Addrs()
			ctx := context.Background()
			c := caller.New()
			defer c.Close()
			args := fleet.Args{Name: "bench"}
			clients := make([]*rpc.Client, n)
			for i, addr := range addrs {
				cl, err := rpc.Dial("tcp", addr)
				if err != nil {
					b.Fatal(err)
				}
				clients[i] = cl
			}
			defer func() {
				for _, cl := range clients {
					cl.Close()
				}
			}()
			calls := make([]*rpc.Call, n)
			floor := func() {
				replies := make([]fleet.Reply, n)
				for i, cl := range clients {
					calls[i] = cl.Go("Service.Method", args, &replies[i], make(chan *rpc.Call, 1))
				}
				for i, call := range calls {
					<-call.Done
					if call.Error != nil {
						b.Fatalf("%s: %v", addrs[i], call.Error)
					}
				}
			}
			fanOut := func() {
				if _, err := caller.FanOut[fleet.Args, fleet.Reply](ctx, c, addrs, "Service.Method", args); err != nil {
					b.Fatal(err)
				}
			}
			timed := func(fn func()) float64 {
				t0 := time.Now()
				fn()
				d := time.Since(t0)
				return float64(d.Nanoseconds())
			}
			floor()
			warmUp(b, ctx, c, addrs)

			var floorNs, callerNs, ratios []float64
			b.ResetTimer()
			for i := range b.N {
				var fl, ca float64
				if i%2 == 0 {
					fl, ca = timed(floor), timed(fanOut)
				} else {
					ca, fl = timed(fanOut), timed(floor)
				}
				floorNs, callerNs = append(floorNs, fl), append(callerNs, ca)
				ratios = append(ratios, ca/fl)
			}
			b.StopTimer()
			b.ReportMetric(median(floorNs), "floor-ns")
			b.ReportMetric(median(callerNs), "caller-ns")
			b.ReportMetric(median(ratios), "caller/floor")
		})
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
