package peers

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/rpc"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	toxiclient "github.com/Shopify/toxiproxy/v2/client"
	"github.com/rs/zerolog"

	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
)

// Sizes of the Toxiproxy comparison.
const (
	inFlight  = 64                    // concurrent calls on one connection
	delay     = 20 * time.Millisecond // the delay fault
	hitAbove  = delay / 2             // a call slower than this was delayed
	probConns = 8                     // connections of the probability measurement
)

// BenchmarkToxiproxy measures rpcfleet's fault path beside Toxiproxy's,
// on one net/rpc connection, in one run. Three targets serve the same
// Service.Method:
//
//	plain      a plain net/rpc server (rpc.NewServer), the same reply
//	rpcfleet   a fleet server: faults applied in its codec, per call
//	toxiproxy  Toxiproxy v2 (in process, API and proxy on 127.0.0.1) in
//	           front of that fleet server, itself with no faults
//
// and the sub-benchmarks measure
//
//	overhead/T          one call after another, no faults: p50-µs, p99-µs
//	throughput/T        64 calls in flight on one connection, no faults: calls/s
//	delay-sequential/T  a 20 ms delay (rpcfleet delay=20ms; a Toxiproxy
//	                    latency toxic of 20 ms, downstream), one call after
//	                    another: p50-ms, p99-ms
//	delay-concurrent/T  the same with 64 calls in flight on one connection
//	                    (a delay that serialised calls would show 64 x 20 ms)
//	probability/T       the 20 ms delay with probability 0.5 (rpcfleet
//	                    p=0.5; Toxiproxy toxicity 0.5), on 8 connections
//	                    at once, one call after another on each: the share
//	                    of calls slower than 10 ms, overall (hit-%) and on
//	                    the connections least and most hit (conn-min-%,
//	                    conn-max-%)
//
//	go test -run '^$' -bench Toxiproxy
func BenchmarkToxiproxy(b *testing.B) {
	ctx := context.Background()
	f, err := fleet.Start(ctx, fleet.WithServers(1), fleet.WithJournalLimit(1))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := f.Stop(context.Background()); err != nil {
			b.Error(err)
		}
	})
	plain := startPlain(b)
	api := startToxiproxy(b)
	proxy, err := api.CreateProxy("rpcfleet", "127.0.0.1:0", f.Addrs()[0])
	if err != nil {
		b.Fatal(err)
	}
	targets := []struct{ name, addr string }{
		{"plain", plain}, {"rpcfleet", f.Addrs()[0]}, {"toxiproxy", proxy.Listen},
	}
	faulty := targets[1:]

	for _, t := range targets {
		b.Run("overhead/"+t.name, func(b *testing.B) {
			c := dial(b, t.addr)
			reportLatencies(b, sequential(b, c, b.N), time.Microsecond, "µs")
		})
	}
	for _, t := range targets {
		b.Run("throughput/"+t.name, func(b *testing.B) {
			c := dial(b, t.addr)
			start := time.Now()
			concurrent(b, c, b.N)
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
		})
	}

	// set gives every call a 20 ms delay with probability p, through the
	// target named; clear takes it away.
	set := func(b *testing.B, name string, p float64) {
		b.Helper()
		var err error
		if name == "rpcfleet" {
			plan := "delay=20ms"
			if p < 1 {
				plan += ",p=0.5"
			}
			err = f.SetFaults(ctx, faults.MustParse(plan))
		} else {
			_, err = proxy.AddToxic("delay", "latency", "downstream", float32(p), toxiclient.Attributes{"latency": delay.Milliseconds()})
		}
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() {
			var err error
			if name == "rpcfleet" {
				err = f.SetFaults(ctx, faults.Plan{})
			} else {
				err = proxy.RemoveToxic("delay")
			}
			if err != nil {
				b.Error(err)
			}
		})
	}
	for _, t := range faulty {
		b.Run("delay-sequential/"+t.name, func(b *testing.B) {
			set(b, t.name, 1)
			c := dial(b, t.addr)
			reportLatencies(b, sequential(b, c, b.N), time.Millisecond, "ms")
		})
	}
	for _, t := range faulty {
		b.Run("delay-concurrent/"+t.name, func(b *testing.B) {
			set(b, t.name, 1)
			c := dial(b, t.addr)
			reportLatencies(b, concurrent(b, c, b.N), time.Millisecond, "ms")
		})
	}
	for _, t := range faulty {
		b.Run("probability/"+t.name, func(b *testing.B) {
			set(b, t.name, 0.5)
			shares := make([]float64, probConns)
			var wg sync.WaitGroup
			for k := range probConns {
				c := dial(b, t.addr) // a connection of its own: Toxiproxy rolls per connection
				wg.Go(func() {
					hit := 0
					for _, l := range sequential(b, c, b.N) {
						if l > hitAbove {
							hit++
						}
					}
					shares[k] = 100 * float64(hit) / float64(max(b.N, 1))
				})
			}
			wg.Wait()
			var sum float64
			for _, s := range shares {
				sum += s
			}
			b.ReportMetric(sum/probConns, "hit-%")
			b.ReportMetric(slices.Min(shares), "conn-min-%")
			b.ReportMetric(slices.Max(shares), "conn-max-%")
		})
	}
}

// call is one Service.Method call on c; it returns how long it took.
func call(c *rpc.Client) (time.Duration, error) {
	var reply fleet.Reply
	start := time.Now()
	err := c.Call("Service.Method", fleet.Args{Name: "bench"}, &reply)
	return time.Since(start), err
}

// sequential makes n calls on c one after another and returns their
// latencies. It is safe to call from any goroutine.
func sequential(b *testing.B, c *rpc.Client, n int) []time.Duration {
	lat := make([]time.Duration, n)
	for i := range lat {
		d, err := call(c)
		if err != nil {
			b.Error(err)
			return nil
		}
		lat[i] = d
	}
	return lat
}

// concurrent makes n calls on c, inFlight at a time, and returns their
// latencies.
func concurrent(b *testing.B, c *rpc.Client, n int) []time.Duration {
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range inFlight {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				d, err := call(c)
				if err != nil {
					b.Error(err)
					return
				}
				lat[i] = d
			}
		})
	}
	wg.Wait()
	return lat
}

// reportLatencies reports the p50 and p99 of lat in unit.
func reportLatencies(b *testing.B, lat []time.Duration, unit time.Duration, name string) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	q := func(p float64) float64 {
		return float64(lat[min(int(p*float64(len(lat))), len(lat)-1)]) / float64(unit)
	}
	b.ReportMetric(q(0.50), "p50-"+name)
	b.ReportMetric(q(0.99), "p99-"+name)
}

// dial returns a client on addr, warmed by one call (gob sends its type
// information once per connection), closed when b ends.
func dial(b *testing.B, addr string) *rpc.Client {
	b.Helper()
	c, err := rpc.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	if _, err := call(c); err != nil {
		b.Fatal(err)
	}
	return c
}

// greeter is the fleet's Service.Method on a plain net/rpc server.
type greeter struct{ addr string }

// Method greets args.Name as fleet server 0 does.
func (g *greeter) Method(args fleet.Args, reply *fleet.Reply) error {
	reply.Message = fleet.Greeting(args.Name, 0, g.addr)
	return nil
}

// startPlain serves greeter as "Service" on a plain net/rpc server on
// 127.0.0.1 until b ends, and returns its address.
func startPlain(b *testing.B) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := rpc.NewServer()
	if err := srv.RegisterName("Service", &greeter{addr: ln.Addr().String()}); err != nil {
		b.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if err != nil {
				continue
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() { srv.ServeConn(c) })
		}
	})
	b.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// startToxiproxy runs a Toxiproxy server in this process, its API on
// 127.0.0.1, until b ends (then its proxies and their connections are
// closed too), and returns a client of its API.
func startToxiproxy(b *testing.B) *toxiclient.Client {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())
	h := &http.Server{Handler: srv.Routes(), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- h.Serve(ln) }()
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := h.Shutdown(ctx); err != nil {
			b.Error(err)
		}
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			b.Error(err)
		}
		if err := srv.Collection.Clear(); err != nil {
			b.Error(err)
		}
	})
	return toxiclient.NewClient(ln.Addr().String())
}
