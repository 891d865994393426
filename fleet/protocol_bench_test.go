package fleet

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/rpc"
	"net/rpc/jsonrpc"
	"testing"

	"github.com/rpcfleet/rpcfleet/faults"
)

// BenchmarkProtocol measures one call on one connection, for each protocol
// net/rpc has, through:
//
//	plain  the same receiver on a standard library net/rpc server speaking
//	       that protocol only (rpc.ServeConn, its HTTP handler,
//	       jsonrpc.NewServerCodec);
//	fleet  a fleet server, which tells the protocol from the first bytes,
//	       with the fault engine on and no rule matching.
//
// The target is fleet at most 10% slower than plain, for each protocol;
// the sniffing happens once per connection, so it costs a call nothing.
//
//	go test -run '^$' -bench BenchmarkProtocol -count 6 -benchtime 20000x ./fleet
func BenchmarkProtocol(b *testing.B) {
	for _, p := range []struct {
		name  string
		serve func(srv *rpc.Server, ln net.Listener) // until ln closes
		dial  func(addr string) (*rpc.Client, error)
	}{
		{"gob", serveEach(func(srv *rpc.Server, c net.Conn) { srv.ServeConn(c) }),
			func(a string) (*rpc.Client, error) { return rpc.Dial("tcp", a) }},
		{"http", func(srv *rpc.Server, ln net.Listener) {
			mux := http.NewServeMux()
			mux.Handle(rpc.DefaultRPCPath, srv)
			_ = http.Serve(ln, mux)
		}, func(a string) (*rpc.Client, error) { return rpc.DialHTTP("tcp", a) }},
		{"json", serveEach(func(srv *rpc.Server, c net.Conn) { srv.ServeCodec(jsonrpc.NewServerCodec(c)) }),
			func(a string) (*rpc.Client, error) { return jsonrpc.Dial("tcp", a) }},
	} {
		b.Run(p.name+"/plain", func(b *testing.B) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			srv := rpc.NewServer()
			if err := srv.RegisterName("Service", &service{addr: ln.Addr().String()}); err != nil {
				b.Fatal(err)
			}
			done := make(chan struct{})
			go func() { defer close(done); p.serve(srv, ln) }()
			defer func() { ln.Close(); <-done }()
			benchDialled(b, ln.Addr().String(), p.dial)
		})
		b.Run(p.name+"/fleet", func(b *testing.B) {
			f, err := Start(context.Background(), WithServers(1),
				WithFaults(faults.MustParse("error=never,method=Service.Nothing;delay=1s,servers=5")))
			if err != nil {
				b.Fatal(err)
			}
			defer f.Stop(context.Background())
			benchDialled(b, f.Addrs()[0], p.dial)
		})
	}
}

// serveEach serves every connection ln accepts with serve, until ln
// closes. Connections are the client's to close.
func serveEach(serve func(*rpc.Server, net.Conn)) func(*rpc.Server, net.Listener) {
	return func(srv *rpc.Server, ln net.Listener) {
		for {
			c, err := ln.Accept()
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if err == nil {
				go serve(srv, c)
			}
		}
	}
}

func benchDialled(b *testing.B, addr string, dial func(string) (*rpc.Client, error)) {
	c, err := dial(addr)
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
