package fleet_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rpcfleet/rpcfleet/caller"
	"github.com/rpcfleet/rpcfleet/fleet"
)

// transports are the two a large in-process fleet can use; TCP only up to
// the sizes the open-file limit allows (a server's listener, and both
// ends of each connection of a fan-out).
var transports = []struct {
	name string
	opts []fleet.Option
	max  int
}{
	{"memory", []fleet.Option{fleet.WithMemory()}, fleet.MaxMemoryServers},
	{"tcp", nil, 5_000},
}

// inUse is the memory the heap and the goroutine stacks hold, after a
// collection.
func inUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}

// BenchmarkStart starts and stops fleets of n servers on each transport:
// time and memory per server while the fleet runs.
func BenchmarkStart(b *testing.B) {
	for _, n := range []int{5_000, 100_000} {
		for _, tr := range transports {
			if n > tr.max {
				continue
			}
			b.Run(fmt.Sprintf("%s/servers=%d", tr.name, n), func(b *testing.B) {
				var bytes, took uint64
				for b.Loop() {
					before := inUse()
					start := time.Now()
					f, err := fleet.Start(context.Background(), append([]fleet.Option{fleet.WithServers(n), fleet.WithJournalLimit(1)}, tr.opts...)...)
					if err != nil {
						b.Fatal(err)
					}
					took += uint64(time.Since(start))
					bytes += inUse() - before
					f.Stop(context.Background())
				}
				b.ReportMetric(float64(took)/float64(b.N)/float64(n), "ns/server")
				b.ReportMetric(float64(bytes)/float64(b.N)/float64(n), "B/server")
			})
		}
	}
}

// BenchmarkFanOutAll fans out to every server of a fleet of n, through
// the reference caller with warm connections: time per call, and the
// memory per server of the fleet and the caller's open connections. (At
// 100,000 servers see BENCHMARKS.md: the first fan-out's 100,000 dials
// take tens of seconds on two cores, too long for a benchmark loop.)
func BenchmarkFanOutAll(b *testing.B) {
	for _, n := range []int{5_000} {
		for _, tr := range transports {
			if n > tr.max {
				continue
			}
			b.Run(fmt.Sprintf("%s/servers=%d", tr.name, n), func(b *testing.B) {
				before := inUse()
				f, err := fleet.Start(context.Background(), append([]fleet.Option{fleet.WithServers(n), fleet.WithJournalLimit(1)}, tr.opts...)...)
				if err != nil {
					b.Fatal(err)
				}
				defer f.Stop(context.Background())
				c := caller.New(caller.WithDialer(f.Dial), caller.WithTimeout(time.Minute), caller.WithDialTimeout(time.Minute))
				defer c.Close()
				addrs := f.Addrs()
				fanOut := func() {
					if _, err := caller.FanOut[fleet.Args, fleet.Reply](context.Background(), c, addrs, "Service.Method", fleet.Args{Name: "b"}); err != nil {
						b.Fatal(err)
					}
				}
				start := time.Now()
				fanOut() // dials every server
				b.ReportMetric(float64(time.Since(start))/float64(n), "first-ns/call")
				b.ReportMetric(float64(inUse()-before)/float64(n), "B/server")
				b.ResetTimer()
				for b.Loop() {
					fanOut()
				}
				b.ReportMetric(float64(b.Elapsed())/float64(b.N)/float64(n), "ns/call")
			})
		}
	}
}

// BenchmarkFanOutBounded fans out to every server of a fleet of n through
// a caller that keeps at most 1,000 connections and 1,000 calls in flight
// (caller.WithMaxConns, caller.WithConcurrency), so every call dials: time
// per call, and the process's peak resident memory (VmHWM, reset before
// the fleet starts: fleet and fan-outs together). This is how a fan-out to
// 100,000 servers fits in 2 GiB; BenchmarkFanOutAll keeps a connection per
// server.
func BenchmarkFanOutBounded(b *testing.B) {
	const bound = 1_000
	for _, n := range []int{5_000, 100_000} {
		for _, tr := range transports {
			if n > tr.max {
				continue
			}
			b.Run(fmt.Sprintf("%s/servers=%d", tr.name, n), func(b *testing.B) {
				resetPeakRSS(b)
				f, err := fleet.Start(context.Background(), append([]fleet.Option{fleet.WithServers(n), fleet.WithJournalLimit(1)}, tr.opts...)...)
				if err != nil {
					b.Fatal(err)
				}
				defer f.Stop(context.Background())
				c := caller.New(caller.WithDialer(f.Dial), caller.WithMaxConns(bound), caller.WithConcurrency(bound),
					caller.WithTimeout(time.Minute), caller.WithDialTimeout(time.Minute))
				defer c.Close()
				addrs := f.Addrs()
				for b.Loop() {
					if _, err := caller.FanOut[fleet.Args, fleet.Reply](context.Background(), c, addrs, "Service.Method", fleet.Args{Name: "b"}); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed())/float64(b.N)/float64(n), "ns/call")
				b.ReportMetric(peakRSS(b)/(1<<20), "peak-MiB")
			})
		}
	}
}

// resetPeakRSS returns what memory it can to the OS and resets the
// process's peak resident set size (Linux: writing 5 to
// /proc/self/clear_refs), so that peakRSS measures from now.
func resetPeakRSS(b *testing.B) {
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Skipf("cannot reset the peak resident size here: %v", err)
	}
}

// peakRSS is the process's peak resident set size in bytes since start
// or resetPeakRSS (VmHWM in /proc/self/status).
func peakRSS(b *testing.B) float64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.Lines(string(status)) {
		if kb, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(kb), " kB"))
			if err != nil {
				b.Fatalf("VmHWM: %v", err)
			}
			return float64(n) * 1024
		}
	}
	b.Fatal("no VmHWM in /proc/self/status")
	return 0
}
