package fleet_test

import (
	"bytes"
	"context"
	"errors"
	"log"
	"math/rand/v2"
	"net"
	"net/rpc"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/fleet/driver"
)

func start(t *testing.T, opts ...fleet.Option) *fleet.Fleet {
	t.Helper()
	f, err := fleet.Start(context.Background(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := f.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return f
}

func call(addr, name string) (string, error) {
	c, err := rpc.Dial("tcp", addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	var r fleet.Reply
	err = c.Call("Service.Method", fleet.Args{Name: name}, &r)
	return r.Message, err
}

func TestServesTheDefaultService(t *testing.T) {
	f := start(t, fleet.WithServers(3))
	addrs := f.Addrs()
	if len(addrs) != 3 || f.Len() != 3 {
		t.Fatalf("Addrs() = %v, want 3", addrs)
	}
	for i, a := range addrs {
		if !strings.HasPrefix(a, "127.0.0.1:") {
			t.Errorf("address %d = %q, not on 127.0.0.1", i, a)
		}
		got, err := call(a, "Ann")
		if err != nil {
			t.Fatal(err)
		}
		if want := fleet.Greeting("Ann", i, a); got != want {
			t.Errorf("server %d said %q, want %q", i, got, want)
		}
	}
}

func TestDialHTTPClientsWork(t *testing.T) {
	f := start(t, fleet.WithServers(1))
	c, err := rpc.DialHTTP("tcp", f.Addrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var r fleet.Reply
	if err := c.Call("Service.Method", fleet.Args{Name: "Hal"}, &r); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(r.Message, "Hello, Hal!") {
		t.Errorf("reply %q", r.Message)
	}
}

func TestBasePortGivesConsecutivePorts(t *testing.T) {
	// Bases below the ephemeral range (32768 up on Linux), where client
	// connections do not take ports; retry if another process holds one.
	for try := 0; ; try++ {
		base := 20000 + rand.IntN(12000)
		f, err := fleet.Start(context.Background(), fleet.WithServers(3), fleet.WithBasePort(base))
		if err != nil {
			if try < 10 {
				continue
			}
			t.Fatal(err)
		}
		defer f.Stop(context.Background())
		for i, a := range f.Addrs() {
			if want := "127.0.0.1:" + strconv.Itoa(base+i); a != want {
				t.Errorf("address %d = %q, want %q", i, a, want)
			}
		}
		return
	}
}

func TestStartErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	busy := ln.Addr().(*net.TCPAddr).Port
	tests := []struct {
		name string
		opts []fleet.Option
		want string
	}{
		{"no servers", []fleet.Option{fleet.WithServers(0)}, "WithServers(0): want 1..65535 servers"},
		{"more servers than ports", []fleet.Option{fleet.WithServers(2_000_000_000)}, "WithServers(2000000000): want 1..65535 servers"},
		{"port range", []fleet.Option{fleet.WithServers(2), fleet.WithBasePort(65535)}, "ports must lie in 1..65535"},
		{"port in use", []fleet.Option{fleet.WithServers(1), fleet.WithBasePort(busy)}, "127.0.0.1:" + strconv.Itoa(busy)},
		{"journal limit", []fleet.Option{fleet.WithJournalLimit(-1)}, "WithJournalLimit(-1): must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := fleet.Start(context.Background(), tt.opts...)
			if err == nil {
				f.Stop(context.Background())
				t.Fatal("Start succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q lacks %q", err, tt.want)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := fleet.Start(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Start with a cancelled ctx: %v", err)
	}
}

func TestKillRefusesAndRestartReturnsOnTheSameAddress(t *testing.T) {
	ctx := t.Context()
	f := start(t, fleet.WithServers(2))
	addr := f.Addrs()[1]
	c, err := rpc.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	if err := f.Kill(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if f.Server(1).Up() {
		t.Error("killed server is up")
	}
	if _, err := call(addr, "x"); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("call to a killed server: %v, want connection refused", err)
	}
	var r fleet.Reply
	if err := c.Call("Service.Method", fleet.Args{}, &r); err == nil {
		t.Error("a connection opened before Kill still works")
	}
	if err := f.Kill(ctx, 1); err != nil {
		t.Errorf("killing twice: %v", err)
	}
	if err := f.Kill(ctx, 5); err == nil {
		t.Error("Kill(5) on a fleet of 2 succeeded")
	}

	if err := f.Restart(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if f.Addrs()[1] != addr {
		t.Errorf("restarted on %s, want %s", f.Addrs()[1], addr)
	}
	if _, err := call(addr, "x"); err != nil {
		t.Errorf("call after restart: %v", err)
	}
	if err := f.Restart(ctx, 1); err == nil {
		t.Error("restarting a running server succeeded")
	}
}

func TestStopPrintsNothingAndEndsEverything(t *testing.T) {
	var logs bytes.Buffer
	log.SetOutput(&logs)
	defer log.SetOutput(os.Stderr)

	goroutines := runtime.NumGoroutine()
	f, err := fleet.Start(context.Background(), fleet.WithServers(4))
	if err != nil {
		t.Fatal(err)
	}
	f.Server(0).SetFaults(faults.MustParse("hang"))
	f.Server(1).SetFaults(faults.MustParse("delay=1h"))
	// A reply sliced with an hour between its bytes holds the connection's
	// writer; the second call's reply waits behind it.
	f.Server(2).SetFaults(faults.MustParse("slice=1,gap=1h,first=1"))
	for _, a := range f.Addrs() {
		c, err := rpc.Dial("tcp", a)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.Go("Service.Method", fleet.Args{}, new(fleet.Reply), make(chan *rpc.Call, 1))
		if a == f.Addrs()[2] {
			waitFor(t, func() bool { return f.Journal().Len() == 3 })
			time.Sleep(100 * time.Millisecond) // the slicing has begun
			c.Go("Service.Method", fleet.Args{}, new(fleet.Reply), make(chan *rpc.Call, 1))
		}
	}
	waitFor(t, func() bool { return f.Journal().Len() == 5 })

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := within(t, 10*time.Second, func() error { return f.Stop(ctx) }); err != nil {
		t.Fatalf("Stop with a hung, a delayed and a sliced call: %v", err)
	}
	for i := range f.Len() {
		if n := f.Server(i).OpenConns(); n != 0 {
			t.Errorf("server %d has %d connections open after Stop", i, n)
		}
	}
	if err := f.Restart(ctx, 0); err == nil {
		t.Error("restart after Stop succeeded")
	}
	if err := f.Stop(ctx); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if logs.Len() > 0 {
		t.Errorf("the fleet logged: %q", logs.String())
	}
	// The servers' goroutines have ended, and so have the clients' readers,
	// which saw their connections close.
	waitFor(t, func() bool { return runtime.NumGoroutine() <= goroutines })
}

func TestKillEndsASlicedReplyAtOnce(t *testing.T) {
	f := start(t, fleet.WithServers(1), fleet.WithFaults(faults.MustParse("slice=1,gap=1h,first=1")))
	c, err := rpc.Dial("tcp", f.Addrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	first := c.Go("Service.Method", fleet.Args{}, new(fleet.Reply), make(chan *rpc.Call, 1))
	waitFor(t, func() bool { return f.Journal().Len() == 1 })
	time.Sleep(100 * time.Millisecond) // the slicing has begun: the second reply waits behind it
	second := c.Go("Service.Method", fleet.Args{}, new(fleet.Reply), make(chan *rpc.Call, 1))
	waitFor(t, func() bool { return f.Journal().Len() == 2 })

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := within(t, 10*time.Second, func() error { return f.Kill(ctx, 0) }); err != nil {
		t.Fatalf("Kill with a sliced reply in progress: %v", err)
	}
	for _, call := range []*rpc.Call{first, second} {
		select {
		case <-call.Done:
			if call.Error == nil {
				t.Errorf("a call to a killed server succeeded: %+v", call.Reply)
			}
		case <-ctx.Done():
			t.Fatal("a call to the killed server did not end")
		}
	}
}

func TestJournal(t *testing.T) {
	f := start(t, fleet.WithServers(2))
	f.Server(1).SetFaults(faults.MustParse("error=nope"))
	for i := range 2 {
		for _, a := range f.Addrs() {
			call(a, strconv.Itoa(i))
		}
	}
	calls := f.Journal().Calls()
	if len(calls) != 4 {
		t.Fatalf("journal holds %d calls, want 4", len(calls))
	}
	var last uint64
	for _, c := range calls {
		if c.ReceivedAt <= last {
			t.Errorf("receipt order not increasing: %+v", c)
		}
		last = c.ReceivedAt
		if c.RepliedAt <= c.ReceivedAt || c.Replied.Before(c.Received) {
			t.Errorf("reply before receipt: %+v", c)
		}
		if c.Method != "Service.Method" || c.Addr != f.Addrs()[c.Server] {
			t.Errorf("bad call record %+v", c)
		}
	}
	s1 := f.Journal().Server(1)
	if len(s1) != 2 || s1[0].N != 1 || s1[1].N != 2 {
		t.Fatalf("server 1 calls %+v, want numbers 1 and 2", s1)
	}
	for _, c := range s1 {
		if c.Outcome != fleet.Failed || c.Err != "nope" || c.Fault != "error=nope" || c.Rule != 0 {
			t.Errorf("server 1 call %+v, want an injected error", c)
		}
	}
	if s0 := f.Journal().Server(0); s0[0].Outcome != fleet.OK || s0[0].Rule != -1 || s0[0].Fault != "" {
		t.Errorf("server 0 call %+v, want a plain OK", s0[0])
	}
	f.Journal().Reset()
	if n := f.Journal().Len(); n != 0 {
		t.Errorf("%d calls after Reset", n)
	}
}

func TestFaultsFleetWideAndCleared(t *testing.T) {
	ctx := t.Context()
	f := start(t, fleet.WithServers(3), fleet.WithFaults(faults.MustParse("error=start")))
	for _, a := range f.Addrs() {
		if _, err := call(a, "x"); err == nil || err.Error() != "start" {
			t.Errorf("call with start-up faults: %v", err)
		}
	}
	if err := f.SetFaults(ctx, faults.MustParse("error=later")); err != nil {
		t.Fatal(err)
	}
	if _, err := call(f.Addrs()[2], "x"); err == nil || err.Error() != "later" {
		t.Errorf("call after SetFaults: %v", err)
	}
	if err := f.ClearFaults(ctx); err != nil {
		t.Fatal(err)
	}
	for _, a := range f.Addrs() {
		if _, err := call(a, "x"); err != nil {
			t.Errorf("call after ClearFaults: %v", err)
		}
	}
}

// within runs fn and returns its error, or fails the test if fn has not
// returned after d (fn's goroutine is then left behind: the test is over).
func within(t *testing.T, d time.Duration, fn func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		t.Fatalf("did not return within %v", d)
		return nil
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestControlPort(t *testing.T) {
	f := start(t, fleet.WithServers(2), fleet.WithControl(0), fleet.WithFirstIndex(5), fleet.WithFleetID("fleet-a"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s := f.Server(1)
	if s.Index() != 6 {
		t.Errorf("Index() = %d, want 6 with WithFirstIndex(5)", s.Index())
	}
	cc, err := driver.DialControl(ctx, s.ControlAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()

	h, err := cc.Health(ctx)
	if err != nil || !h.Up || h.Index != 6 || h.Addr != s.Addr() || h.FleetID != "fleet-a" {
		t.Fatalf("Health() = %+v, %v; want up, index 6, fleet id fleet-a", h, err)
	}
	if err := cc.SetFaults(ctx, faults.MustParse("error=via control")); err != nil {
		t.Fatal(err)
	}
	if _, err := call(s.Addr(), "x"); err == nil || err.Error() != "via control" {
		t.Errorf("call after SetFaults through control: %v", err)
	}
	calls, err := cc.Journal(ctx)
	if err != nil || len(calls) != 1 || calls[0].Server != 6 || calls[0].Fault != `error="via control"` {
		t.Fatalf("Journal() = %+v, %v", calls, err)
	}
	if h, _ := cc.Health(ctx); h.Calls != 1 || h.Plan != `error="via control"` {
		t.Errorf("Health() after one call = %+v", h)
	}
	if err := cc.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if calls, _ := cc.Journal(ctx); len(calls) != 0 {
		t.Errorf("journal after Reset: %+v", calls)
	}
	if err := cc.ClearFaults(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := call(s.Addr(), "x"); err != nil {
		t.Errorf("call after ClearFaults: %v", err)
	}
	// A bad plan is refused with the bad token named, and changes nothing.
	err = cc.SetFaults(ctx, faults.Plan{Rules: []faults.Rule{{Fault: faults.Delay{D: -time.Second}}}})
	if err == nil || !strings.Contains(err.Error(), `"-1s"`) {
		t.Errorf("SetFaults with a negative delay: %v", err)
	}
	if err := f.Kill(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if h, err := cc.Health(ctx); err != nil || h.Up {
		t.Errorf("Health() of a killed server = %+v, %v; want reachable and down", h, err)
	}
}

// A limited journal keeps at least the last n calls, fewer than n+1,024,
// in order, and counts what it forgot; replies of kept calls are recorded.
func TestJournalLimit(t *testing.T) {
	const limit, total = 1500, 5000
	f := start(t, fleet.WithServers(1), fleet.WithJournalLimit(limit))
	c, err := rpc.Dial("tcp", f.Addrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := range total {
		var r fleet.Reply
		if err := c.Call("Service.Method", fleet.Args{Name: strconv.Itoa(i)}, &r); err != nil {
			t.Fatal(err)
		}
	}
	j := f.Journal()
	calls := j.Calls()
	if n := len(calls); n < limit || n >= limit+1024 || n != j.Len() {
		t.Fatalf("journal holds %d calls (Len %d), want %d..%d", n, j.Len(), limit, limit+1023)
	}
	if got := j.Forgotten() + len(calls); got != total {
		t.Errorf("Forgotten %d + kept %d = %d, want %d", j.Forgotten(), len(calls), got, total)
	}
	for i, c := range calls {
		if want := total - len(calls) + i; c.ID != want || c.N != uint64(want+1) {
			t.Fatalf("calls[%d]: ID %d, N %d; want the latest calls in order (ID %d)", i, c.ID, c.N, want)
		}
		if c.RepliedAt == 0 {
			t.Fatalf("calls[%d] has no reply recorded: %+v", i, c)
		}
	}
}

// A plan built in code is held to what faults.Parse accepts, as behind a
// control port: a rule an earlier rule always hides is refused at Start
// and by SetFaults, which then changes nothing.
func TestPlanBuiltInCodeIsChecked(t *testing.T) {
	hidden := faults.Plan{Rules: []faults.Rule{{Fault: faults.Error{Msg: "a"}}, {Fault: faults.Error{Msg: "b"}}}}
	const want = "rule 2 can never apply: rule 1 (error=a)"
	if f, err := fleet.Start(context.Background(), fleet.WithServers(1), fleet.WithFaults(hidden)); err == nil || !strings.Contains(err.Error(), want) {
		if err == nil {
			f.Stop(context.Background())
		}
		t.Errorf("Start with a hidden rule: %v, want an error naming it", err)
	}
	f := start(t, fleet.WithServers(1), fleet.WithFaults(faults.MustParse("delay=1ms;error=a")))
	if err := f.SetFaults(context.Background(), hidden); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("SetFaults with a hidden rule: %v, want an error naming it", err)
	}
	if got := f.Server(0).Faults().String(); got != "delay=1ms;error=a" {
		t.Errorf("plan after a refused SetFaults = %q, want the old one", got)
	}
}
