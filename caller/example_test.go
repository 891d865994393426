package caller_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/rpc"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/rpcfleet/rpcfleet/caller"
	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
)

// Retries with backoff: every server fails its first two calls.
func ExampleWithRetry() {
	ctx := context.Background()
	f, err := fleet.Start(ctx, fleet.WithServers(3), fleet.WithFaults(faults.MustParse("error=boom,first=2")))
	if err != nil {
		panic(err)
	}
	defer f.Stop(ctx)
	c := caller.New(caller.WithRetry(3, 10*time.Millisecond, 100*time.Millisecond),
		caller.WithBudget(caller.NewBudget(100, 0.1)))
	defer c.Close()

	results, err := caller.FanOut[fleet.Args, fleet.Reply](ctx, c, f.Addrs(), "Service.Method", fleet.Args{Name: "Ann"})
	fmt.Println("error:", err)
	for i, r := range results {
		fmt.Printf("server %d: %d attempts, ok=%v\n", i, r.Attempts, r.Err == nil)
	}
	// Output:
	// error: <nil>
	// server 0: 3 attempts, ok=true
	// server 1: 3 attempts, ok=true
	// server 2: 3 attempts, ok=true
}

// A quorum: the fan-out returns once two of five servers answered; the
// slow ones are cancelled, which is not a failure.
func ExampleWithQuorum() {
	ctx := context.Background()
	f, err := fleet.Start(ctx, fleet.WithServers(5), fleet.WithFaults(faults.MustParse("delay=2s,servers=2-4")))
	if err != nil {
		panic(err)
	}
	defer f.Stop(ctx)
	c := caller.New(caller.WithQuorum(2))
	defer c.Close()

	results, err := caller.FanOut[fleet.Args, fleet.Reply](ctx, c, f.Addrs(), "Service.Method", fleet.Args{Name: "Ann"})
	fmt.Println("error:", err)
	for i, r := range results {
		fmt.Printf("server %d: ok=%v cancelled=%v %v\n", i, r.Err == nil, r.Cancelled, errors.Is(r.Err, caller.ErrCancelled))
	}
	// Output:
	// error: <nil>
	// server 0: ok=true cancelled=false false
	// server 1: ok=true cancelled=false false
	// server 2: ok=false cancelled=true true
	// server 3: ok=false cancelled=true true
	// server 4: ok=false cancelled=true true
}

// Hedging: server 1 is slow, so after 50ms its call is also sent to the
// next server of the group, whose reply wins.
func ExampleWithHedge() {
	ctx := context.Background()
	f, err := fleet.Start(ctx, fleet.WithServers(3), fleet.WithFaults(faults.MustParse("delay=2s,servers=1")))
	if err != nil {
		panic(err)
	}
	defer f.Stop(ctx)
	c := caller.New(caller.WithHedge(50*time.Millisecond, 1))
	defer c.Close()
	addrs := f.Addrs()

	results, err := caller.FanOut[fleet.Args, fleet.Reply](ctx, c, addrs, "Service.Method", fleet.Args{Name: "Ann"})
	fmt.Println("error:", err)
	r := results[1]
	fmt.Println("hedged:", r.Hedged, "attempts:", r.Attempts, "answered by server 2:", r.From == addrs[2])
	// Output:
	// error: <nil>
	// hedged: true attempts: 2 answered by server 2: true
}

// One typed call through the caller's pool.
func ExampleCall() {
	ctx := context.Background()
	f, err := fleet.Start(ctx, fleet.WithServers(1))
	if err != nil {
		panic(err)
	}
	defer f.Stop(ctx)
	c := caller.New()
	defer c.Close()

	reply, err := caller.Call[fleet.Args, fleet.Reply](ctx, c, f.Addrs()[0], "Service.Echo", fleet.Args{Name: "Ann"})
	fmt.Println(reply.Message, err)
	// Output: Ann <nil>
}

// The default fan-out: one goroutine per address, results in input order,
// a per-call timeout, and one error naming every failed address, through
// which errors.Is and errors.As reach each call's cause.
func ExampleFanOut() {
	ctx := context.Background()
	f, err := fleet.Start(ctx, fleet.WithServers(4), fleet.WithFaults(faults.MustParse("hang,servers=3;error=boom,servers=1")))
	if err != nil {
		panic(err)
	}
	defer f.Stop(ctx)
	c := caller.New(caller.WithTimeout(time.Second))
	defer c.Close() // closes the pooled connections

	addrs := f.Addrs()
	results, err := caller.FanOut[fleet.Args, fleet.Reply](ctx, c, addrs, "Service.Method", fleet.Args{Name: "Ann"})
	for i, r := range results {
		fmt.Printf("%d: same address %v, ok %v\n", i, r.Addr == addrs[i], r.Err == nil)
	}
	var fe *caller.FanOutError
	fmt.Println("failed are 1 and 3:", errors.As(err, &fe) && slices.Equal(fe.Addrs(), []string{addrs[1], addrs[3]}))
	fmt.Println("a timeout among them:", errors.Is(err, context.DeadlineExceeded))
	// Output:
	// 0: same address true, ok true
	// 1: same address true, ok false
	// 2: same address true, ok true
	// 3: same address true, ok false
	// failed are 1 and 3: true
	// a timeout among them: true
}

// The README's strategies snippet, compiled (it has no output to check).
func Example_strategies() {
	ctx, addrs, args := context.Background(), []string{"127.0.0.1:1"}, fleet.Args{Name: "Ann"}
	c := caller.New(
		caller.WithTimeout(500*time.Millisecond),              // per try, dial included
		caller.WithConcurrency(16),                            // at most 16 calls in flight per fan-out
		caller.WithHedgeQuantile(0.95, 1),                     // a backup call to another address of the group when a call is slower than the p95 of recent ones
		caller.WithRetry(3, 10*time.Millisecond, time.Second), // 3 tries per address, full-jitter exponential backoff, capped
		caller.WithBudget(caller.NewBudget(100, 0.1)),         // gRPC-style token bucket shared by retries and hedges (and by callers)
	)
	results, err := caller.FanOut[fleet.Args, fleet.Reply](ctx, c, addrs, "Service.Method", args)
	_, _ = results, err
}

// Arith is the receiver of ExampleWithProtocol's server.
type Arith struct{}

// Multiply replies a·b.
func (Arith) Multiply(args [2]int, reply *int) error {
	*reply = args[0] * args[1]
	return nil
}

// The transport of the MIT 6.824 labs: a plain net/rpc server over HTTP
// on a unix socket (rpc.HandleHTTP, on a server of its own here), and a
// Caller that speaks HTTP to it as rpc.DialHTTP("unix", sock) would. An
// address containing a '/' is a socket path.
func ExampleWithProtocol() {
	dir, err := os.MkdirTemp("", "caller")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "coordinator.sock")

	srv := rpc.NewServer()
	if err := srv.Register(Arith{}); err != nil {
		panic(err)
	}
	l, err := net.Listen("unix", sock)
	if err != nil {
		panic(err)
	}
	hs := &http.Server{Handler: srv} // *rpc.Server is the http.Handler of rpc.HandleHTTP
	go hs.Serve(l)
	defer hs.Close()

	c := caller.New(caller.WithProtocol(caller.HTTP))
	defer c.Close() // also ends the server's side of the connection
	product, err := caller.Call[[2]int, int](context.Background(), c, sock, "Arith.Multiply", [2]int{6, 7})
	fmt.Println(product, err)
	// Output: 42 <nil>
}

// A fan-out to more in-memory servers than the caller keeps connections
// to: 100 calls in flight at a time, 100 connections kept after, the
// others closed as their calls end. (BENCHMARKS.md runs 100,000 servers
// with 1,000 of each.)
func ExampleWithMaxConns() {
	ctx := context.Background()
	f, err := fleet.Start(ctx, fleet.WithServers(1000), fleet.WithMemory(), fleet.WithJournalLimit(1))
	if err != nil {
		panic(err)
	}
	defer f.Stop(ctx)
	c := caller.New(caller.WithDialer(f.Dial),
		caller.WithConcurrency(100), // at most 100 calls in flight
		caller.WithMaxConns(100),    // and 100 connections kept between calls
	)
	defer c.Close()

	results, err := caller.FanOut[fleet.Args, fleet.Reply](ctx, c, f.Addrs(), "Service.Method", fleet.Args{Name: "Ann"})
	fmt.Println(len(results), "results, error:", err)
	fmt.Println(results[999].Reply.Message[:len("Hello, Ann! (server 999")])
	// Output:
	// 1000 results, error: <nil>
	// Hello, Ann! (server 999
}
