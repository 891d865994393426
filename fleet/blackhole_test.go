package fleet_test

import (
	"context"
	"errors"
	"net"
	"net/rpc"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/fleet/driver"
)

// dialHangs checks that a dial to addr with the given timeout times out:
// neither connected nor refused.
func dialHangs(t *testing.T, addr string, timeout time.Duration) {
	t.Helper()
	start := time.Now()
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err == nil {
		c.Close()
		t.Fatalf("dial to a blackholed server connected after %v", time.Since(start))
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial to a blackholed server: %v, want an i/o timeout", err)
	}
	if took := time.Since(start); took < timeout*9/10 {
		t.Errorf("dial failed after %v, want after its timeout %v", took, timeout)
	}
}

// goCall sends Service.Method on c without waiting.
func goCall(c *rpc.Client) *rpc.Call {
	return c.Go("Service.Method", fleet.Args{Name: "x"}, new(fleet.Reply), make(chan *rpc.Call, 1))
}

// noReply checks that call gets no reply (and no error) within d.
func noReply(t *testing.T, call *rpc.Call, d time.Duration) {
	t.Helper()
	select {
	case <-call.Done:
		t.Fatalf("a call on a blackholed connection ended: %v", call.Error)
	case <-time.After(d):
	}
}

// replied waits up to 5s for call's reply.
func replied(t *testing.T, call *rpc.Call) {
	t.Helper()
	select {
	case <-call.Done:
		if call.Error != nil {
			t.Errorf("call after the blackhole: %v", call.Error)
		}
	case <-time.After(5 * time.Second):
		t.Error("no reply within 5s after the blackhole ended")
	}
}

func dialRPC(t *testing.T, addr string) *rpc.Client {
	t.Helper()
	c, err := rpc.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestBlackholeHangsDialsAndStopsReads(t *testing.T) {
	ctx := t.Context()
	f := start(t, fleet.WithServers(2))
	addr := f.Addrs()[0]
	old := dialRPC(t, addr)
	if err := old.Call("Service.Method", fleet.Args{}, new(fleet.Reply)); err != nil {
		t.Fatal(err)
	}
	if err := f.SetFaults(ctx, faults.MustParse("blackhole,servers=0")); err != nil {
		t.Fatal(err)
	}

	dialHangs(t, addr, 500*time.Millisecond)
	pending := goCall(old)
	noReply(t, pending, 500*time.Millisecond)
	for _, c := range f.Journal().Server(0)[1:] {
		if c.Outcome != fleet.Pending {
			t.Errorf("journal while blackholed: %+v, want nothing ended", c)
		}
	}
	// A dial started during the blackhole completes after it.
	queued := make(chan error, 1)
	go func() {
		c, err := net.DialTimeout("tcp", addr, 10*time.Second)
		if err == nil {
			c.Close()
		}
		queued <- err
	}()
	if _, err := call(f.Addrs()[1], "x"); err != nil {
		t.Errorf("server 1, not targeted: %v", err)
	}
	if !f.Server(0).Up() {
		t.Error("a blackholed server is not up")
	}

	time.Sleep(100 * time.Millisecond)
	if err := f.SetServerFaults(ctx, 0, faults.Plan{}); err != nil {
		t.Fatal(err)
	}
	replied(t, pending)
	start := time.Now()
	if _, err := call(addr, "x"); err != nil {
		t.Errorf("new connection after the blackhole: %v", err)
	} else if took := time.Since(start); took > time.Second {
		t.Errorf("a call on a new connection took %v after the blackhole", took)
	}
	select {
	case err := <-queued:
		if err != nil {
			t.Errorf("a dial queued during the blackhole: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("a dial queued during the blackhole did not complete within 5s of its end")
	}
	if got := f.Journal().Server(0); len(got) != 3 || got[1].Outcome != fleet.OK {
		t.Errorf("journal of server 0: %+v, want 3 calls, the blackholed one answered", got)
	}
	// The server's own fillers were closed, not served.
	waitFor(t, func() bool { return f.Server(0).OpenConns() == 1 })
}

func TestBlackholeWindowEndsByItself(t *testing.T) {
	f := start(t, fleet.WithServers(1), fleet.WithFaults(faults.MustParse("blackhole,from=300ms,for=3s")))
	addr := f.Addrs()[0]
	old := dialRPC(t, addr) // before the window
	if err := old.Call("Service.Method", fleet.Args{}, new(fleet.Reply)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(600 * time.Millisecond)
	pending := goCall(old)
	dialHangs(t, addr, 300*time.Millisecond)
	noReply(t, pending, 100*time.Millisecond)
	replied(t, pending)
	if _, err := call(addr, "x"); err != nil {
		t.Errorf("call after the window: %v", err)
	}
}

func TestKillAndStopWhileBlackholed(t *testing.T) {
	goroutines := runtime.NumGoroutine()
	ctx := t.Context()
	f, err := fleet.Start(ctx, fleet.WithServers(2))
	if err != nil {
		t.Fatal(err)
	}
	before, err := rpc.Dial("tcp", f.Addrs()[1])
	if err != nil {
		t.Fatal(err)
	}
	defer before.Close()
	if err := f.SetFaults(ctx, faults.MustParse("blackhole")); err != nil {
		t.Fatal(err)
	}
	waiting := goCall(before)
	noReply(t, waiting, 200*time.Millisecond)
	dialHangs(t, f.Addrs()[1], 200*time.Millisecond)

	// Kill returns promptly, fails the waiting call and ends the
	// blackhole: the restarted server serves normally.
	if err := within(t, 2*time.Second, func() error { return f.Kill(ctx, 1) }); err != nil {
		t.Fatal(err)
	}
	select {
	case <-waiting.Done:
		if waiting.Error == nil {
			t.Error("a blackholed call was answered by a killed server")
		}
	case <-time.After(2 * time.Second):
		t.Error("a blackholed call did not fail when the server was killed")
	}
	for _, c := range f.Journal().Server(1) {
		if c.Outcome != fleet.Pending && c.Outcome != fleet.Aborted {
			t.Errorf("journal after Kill: %+v, want no call answered", c)
		}
	}
	// Kill returns promptly and ends the blackhole: the restarted server
	// serves normally.
	if err := within(t, 2*time.Second, func() error { return f.Kill(ctx, 1) }); err != nil {
		t.Fatal(err)
	}
	if err := f.Restart(ctx, 1); err != nil {
		t.Fatal(err)
	}
	c, err := rpc.Dial("tcp", f.Addrs()[1])
	if err != nil {
		t.Fatalf("dial after Kill and Restart: %v", err)
	}
	defer c.Close()
	if err := c.Call("Service.Method", fleet.Args{}, new(fleet.Reply)); err != nil {
		t.Errorf("call after Kill and Restart: %v", err)
	}
	// Blackholed again, with a call waiting on the open connection and a
	// dial hanging: Stop returns promptly and ends everything.
	if err := f.SetServerFaults(ctx, 1, faults.MustParse("blackhole")); err != nil {
		t.Fatal(err)
	}
	pending := goCall(c)
	noReply(t, pending, 200*time.Millisecond)
	hanging := make(chan error, 1)
	go func() {
		c, err := net.DialTimeout("tcp", f.Addrs()[0], time.Second)
		if err == nil {
			c.Close()
		}
		hanging <- err
	}()
	stopCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := within(t, 5*time.Second, func() error { return f.Stop(stopCtx) }); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("Stop took %v while blackholed", took)
	}
	select {
	case <-pending.Done:
		if pending.Error == nil {
			t.Error("a blackholed call was answered by a stopped server")
		}
	case <-time.After(2 * time.Second):
		t.Error("a blackholed call did not fail when the server stopped")
	}
	<-hanging
	c.Close()
	waitFor(t, func() bool { return runtime.NumGoroutine() <= goroutines })
}

// The control endpoint, which the container backend steers, sets and
// clears a blackhole, and keeps answering while one holds.
func TestBlackholeThroughControl(t *testing.T) {
	f := start(t, fleet.WithServers(1), fleet.WithControl(0))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cc, err := driver.DialControl(ctx, f.Server(0).ControlAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	if err := cc.SetFaults(ctx, faults.MustParse("blackhole")); err != nil {
		t.Fatal(err)
	}
	dialHangs(t, f.Addrs()[0], 300*time.Millisecond)
	if h, err := cc.Health(ctx); err != nil || h.Plan != "blackhole" {
		t.Errorf("Health() while blackholed = %+v, %v", h, err)
	}
	if err := cc.ClearFaults(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := call(f.Addrs()[0], "x"); err != nil {
		t.Errorf("call after ClearFaults: %v", err)
	}
}

// A window too short for the accept loop to fill the queue, or a plan
// replaced at once, must not leave SetFaults waiting for the fill.
func TestBlackholeShortWindowsDoNotHang(t *testing.T) {
	f := start(t, fleet.WithServers(1))
	s := f.Server(0)
	for _, spec := range []string{"blackhole,for=1ms", "blackhole", "blackhole,for=1ns", ""} {
		for range 20 {
			if err := within(t, 2*time.Second, func() error { s.SetFaults(faults.MustParse(spec)); return nil }); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A blackhole set again over one that holds still swallows dials.
	s.SetFaults(faults.MustParse("blackhole"))
	s.SetFaults(faults.MustParse("blackhole"))
	dialHangs(t, f.Addrs()[0], 300*time.Millisecond)
	s.SetFaults(faults.Plan{})
	if _, err := call(f.Addrs()[0], "x"); err != nil {
		t.Errorf("call after the blackholes: %v", err)
	}
	waitFor(t, func() bool { return s.OpenConns() == 0 })
}
