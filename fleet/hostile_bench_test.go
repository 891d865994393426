package fleet_test

import (
	"bufio"
	"context"
	"encoding/gob"
	"net"
	"net/rpc"
	"runtime"
	"testing"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
)

// BenchmarkHostileClient measures what a hostile client makes a server
// hold (README's security section): the server's heap in use and its
// goroutines while the attack runs (the client's own share is small and
// the same with or without the bounds), the bytes allocated meanwhile,
// and how long another client's call takes. Run it once:
//
//	go test -run '^$' -bench HostileClient -benchtime 1x ./fleet
func BenchmarkHostileClient(b *testing.B) {
	for _, a := range []struct {
		name   string
		attack func(b *testing.B, addr string, stop <-chan struct{})
	}{
		{"claim-4GiB-send-512MB", claim4GiB},
		{"pipeline-300k-never-read", pipeline},
		{"1000-idle-conns", idleConns},
	} {
		b.Run(a.name, func(b *testing.B) {
			for b.Loop() {
				f, err := fleet.Start(context.Background(), fleet.WithServers(1), fleet.WithJournalLimit(1))
				if err != nil {
					b.Fatal(err)
				}
				runtime.GC()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				g0 := runtime.NumGoroutine()
				stop := make(chan struct{})
				done := make(chan struct{})
				go func() { defer close(done); a.attack(b, f.Addrs()[0], stop) }()
				time.Sleep(3 * time.Second)
				runtime.ReadMemStats(&after)
				g := runtime.NumGoroutine() - g0
				t0 := time.Now()
				c, err := rpc.Dial("tcp", f.Addrs()[0])
				if err != nil {
					b.Fatal(err)
				}
				var r fleet.Reply
				if err := c.Call("Service.Method", fleet.Args{Name: "other"}, &r); err != nil {
					b.Errorf("another client's call: %v", err)
				}
				other := time.Since(t0)
				c.Close()
				close(stop)
				f.Stop(context.Background())
				<-done
				b.ReportMetric(float64(after.HeapInuse+after.StackInuse)/(1<<20), "MiB-heap+stacks")
				b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/(1<<20), "MiB-allocated")
				b.ReportMetric(float64(g), "goroutines")
				b.ReportMetric(float64(other.Microseconds())/1000, "ms-other-call")
			}
		})
	}
}

// claim4GiB sends a gob length prefix of 4 GiB and then zeros, up to 512
// MB, until the server closes the connection.
func claim4GiB(b *testing.B, addr string, stop <-chan struct{}) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Error(err)
		return
	}
	defer c.Close()
	if _, err := c.Write([]byte{0xfb, 0x01, 0x00, 0x00, 0x00, 0x00}); err != nil {
		return
	}
	zeros := make([]byte, 1<<20)
	for range 512 {
		select {
		case <-stop:
			return
		default:
		}
		if _, err := c.Write(zeros); err != nil {
			return // closed by the server
		}
	}
	<-stop
}

// pipeline writes 300,000 requests on one connection and reads nothing.
func pipeline(b *testing.B, addr string, stop <-chan struct{}) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Error(err)
		return
	}
	go func() { <-stop; c.Close() }()
	w := bufio.NewWriter(c)
	enc := gob.NewEncoder(w)
	for i := range 300_000 {
		if enc.Encode(rpc.Request{ServiceMethod: "Service.Method", Seq: uint64(i)}) != nil || enc.Encode(fleet.Args{Name: "x"}) != nil {
			return
		}
	}
	w.Flush()
	<-stop
}

// idleConns opens 1,000 connections that send nothing.
func idleConns(b *testing.B, addr string, stop <-chan struct{}) {
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range 1000 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Error(err)
			return
		}
		conns = append(conns, c)
	}
	<-stop
}
