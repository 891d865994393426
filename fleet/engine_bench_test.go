package fleet

import (
	"context"
	"errors"
	"net"
	"net/rpc"
	"testing"

	"github.com/rpcfleet/rpcfleet/faults"
)

// BenchmarkCall measures one call on one connection through:
//
//	plain   the same receiver on a plain net/rpc server (no rpcfleet at all);
//	off     a fleet server with an empty plan: journal and codec, no rules;
//	engine  a fleet server whose plan has rules that match no call, so the
//	        engine evaluates every rule and injects nothing.
//
// The target is engine at most 5% slower than off; plain shows what the
// whole harness (codec and journal) costs.
//
//	go test -run '^$' -bench BenchmarkCall -count 6 ./fleet
func BenchmarkCall(b *testing.B) {
	b.Run("plain", func(b *testing.B) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		// The same receiver as a fleet server's, so replies are as long.
		srv := rpc.NewServer()
		if err := srv.RegisterName("Service", &service{addr: ln.Addr().String()}); err != nil {
			b.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				c, err := ln.Accept()
				if errors.Is(err, net.ErrClosed) {
					return
				}
				go srv.ServeConn(c)
			}
		}()
		defer func() { ln.Close(); <-done }()
		benchCalls(b, ln.Addr().String())
	})
	b.Run("off", func(b *testing.B) {
		f, err := Start(context.Background(), WithServers(1))
		if err != nil {
			b.Fatal(err)
		}
		defer f.Stop(context.Background())
		benchCalls(b, f.Addrs()[0])
	})
	b.Run("engine", func(b *testing.B) {
		f, err := Start(context.Background(), WithServers(1),
			WithFaults(faults.MustParse("error=never,method=Service.Nothing;delay=1s,servers=5")))
		if err != nil {
			b.Fatal(err)
		}
		defer f.Stop(context.Background())
		benchCalls(b, f.Addrs()[0])
	})
}

func benchCalls(b *testing.B, addr string) {
	c, err := rpc.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	var r Reply
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Call("Service.Method", Args{Name: "bench"}, &r); err != nil {
			b.Fatal(err)
		}
	}
}
