package fleet_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rpcfleet/rpcfleet/caller"
	"github.com/rpcfleet/rpcfleet/fleet"
)

// BenchmarkStartStop starts and stops a fleet of 1,000 servers per op.
// Besides ns/op (start plus stop) it reports start-ms and stop-ms, the
// averages of each half: the target is a start under 50 ms.
func BenchmarkStartStop(b *testing.B) {
	for _, n := range []int{1000} {
		b.Run(fmt.Sprintf("servers=%d", n), func(b *testing.B) {
			ctx := context.Background()
			var start, stop time.Duration
			b.ReportAllocs()
			for range b.N {
				t0 := time.Now()
				f, err := fleet.Start(ctx, fleet.WithServers(n))
				t1 := time.Now()
				if err != nil {
					b.Fatal(err)
				}
				if f.Len() != n {
					b.Fatalf("fleet has %d servers, want %d", f.Len(), n)
				}
				if err := f.Stop(ctx); err != nil {
					b.Fatal(err)
				}
				t2 := time.Now()
				start += t1.Sub(t0)
				stop += t2.Sub(t1)
			}
			b.ReportMetric(float64(start.Nanoseconds())/1e6/float64(b.N), "start-ms")
			b.ReportMetric(float64(stop.Nanoseconds())/1e6/float64(b.N), "stop-ms")
		})
	}
}

// BenchmarkResetCalls fans out once to every server of an in-process
// fleet of 1,000 (1,000 calls in the journal), then resets its calls: one
// op is one fan-out and one ResetCalls, of which reset-µs is the second.
func BenchmarkResetCalls(b *testing.B) {
	ctx := context.Background()
	f, err := fleet.Start(ctx, fleet.WithServers(1000), fleet.WithMemory())
	if err != nil {
		b.Fatal(err)
	}
	defer f.Stop(ctx)
	c := caller.New(caller.WithDialer(f.Dial))
	defer c.Close()
	var reset time.Duration
	for b.Loop() {
		if _, err := caller.FanOut[fleet.Args, fleet.Reply](ctx, c, f.Addrs(), "Service.Method", fleet.Args{Name: "b"}); err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		if err := f.ResetCalls(ctx); err != nil {
			b.Fatal(err)
		}
		reset += time.Since(t0)
		if calls, err := f.Calls(ctx); err != nil || len(calls) != 0 {
			b.Fatalf("%d calls after ResetCalls (%v)", len(calls), err)
		}
	}
	b.ReportMetric(float64(reset.Microseconds())/float64(b.N), "reset-µs")
}
