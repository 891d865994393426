package fleet_test

import (
	"context"
	"errors"
	"io"
	"net/rpc"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rpcfleet/rpcfleet/caller"
	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
)

// memCall makes one Service.Method call through the reference caller on
// a memory fleet, dialling through the fleet (the dial bounded by half the
// call's timeout), and says how long it took.
func memCall(ctx context.Context, f *fleet.Fleet, i int, timeout time.Duration, p caller.Protocol) (string, error, time.Duration) {
	c := caller.New(caller.WithDialer(f.Dial), caller.WithTimeout(timeout), caller.WithDialTimeout(timeout/2), caller.WithProtocol(p))
	defer c.Close()
	start := time.Now()
	r, err := caller.Call[fleet.Args, fleet.Reply](ctx, c, f.Addrs()[i], "Service.Method", fleet.Args{Name: "Mem"})
	return r.Message, err, time.Since(start)
}

// Every fault kind applies on the in-memory transport as on TCP, on every
// protocol: the client sees what the README's table of kinds says.
func TestMemoryTransportAppliesEveryFault(t *testing.T) {
	ctx := context.Background()
	const timeout = 2 * time.Second
	ok := func(t *testing.T, msg string, err error, _ time.Duration) {
		if err != nil || !strings.HasPrefix(msg, "Hello, Mem! (server 0 at mem-") {
			t.Errorf("got %q, %v; want server 0's reply", msg, err)
		}
	}
	after := func(d time.Duration) func(*testing.T, string, error, time.Duration) {
		return func(t *testing.T, msg string, err error, took time.Duration) {
			ok(t, msg, err, took)
			if took < d {
				t.Errorf("replied after %v, want at least %v", took, d)
			}
		}
	}
	fails := func(want func(error) bool, what string) func(*testing.T, string, error, time.Duration) {
		return func(t *testing.T, msg string, err error, _ time.Duration) {
			if err == nil || !want(err) {
				t.Errorf("got %q, %v; want %s", msg, err, what)
			}
		}
	}
	timedOut := func(dial bool) func(*testing.T, string, error, time.Duration) {
		return fails(func(err error) bool {
			var te *caller.TimeoutError
			return errors.As(err, &te) && te.Dial == dial
		}, "a timeout")
	}
	is := func(targets ...error) func(error) bool {
		return func(err error) bool {
			for _, t := range targets {
				if errors.Is(err, t) {
					return true
				}
			}
			return false
		}
	}
	anyErr := func(error) bool { return true }
	tests := []struct {
		plan  string
		check func(*testing.T, string, error, time.Duration)
	}{
		{"delay=50ms,jitter=10ms", after(40 * time.Millisecond)},
		{"error=boom", fails(func(err error) bool { var se rpc.ServerError; return errors.As(err, &se) && se == "boom" }, "the error reply boom")},
		{"hang", timedOut(false)},
		{"drop", fails(is(io.ErrUnexpectedEOF), "io.ErrUnexpectedEOF")},
		{"reset", fails(is(syscall.ECONNRESET, io.ErrUnexpectedEOF), "ECONNRESET")},
		{"corrupt", fails(anyErr, "an error")},
		{"truncate", fails(anyErr, "an error")},
		{"throttle=1KB", after(0)},
		{"slice=16,gap=5ms", after(5 * time.Millisecond)},
		{"refuse", fails(is(syscall.ECONNREFUSED), "ECONNREFUSED")},
		{"slowaccept=100ms", after(100 * time.Millisecond)},
		{"blackhole", timedOut(true)},
		{"crash", fails(is(io.ErrUnexpectedEOF, syscall.ECONNRESET), "a lost connection")},
	}
	for _, p := range []caller.Protocol{caller.Gob, caller.HTTP, caller.JSONRPC} {
		for _, tt := range tests {
			t.Run(p.String()+"/"+tt.plan, func(t *testing.T) {
				t.Parallel()
				f := start(t, fleet.WithServers(1), fleet.WithMemory(), fleet.WithFaults(faults.MustParse(tt.plan)))
				tm := timeout
				if tt.plan == "hang" || tt.plan == "blackhole" {
					tm = 200 * time.Millisecond
				}
				msg, err, took := memCall(ctx, f, 0, tm, p)
				tt.check(t, msg, err, took)
			})
		}
	}
}

// Hold and Release, Kill and Restart, Pause, Disconnect: the lifecycle
// works on the in-memory transport as on TCP.
func TestMemoryTransportLifecycle(t *testing.T) {
	ctx := context.Background()
	f := start(t, fleet.WithServers(2), fleet.WithMemory())
	if a := f.Addrs()[1]; !strings.HasPrefix(a, "mem-") || !strings.HasSuffix(a, ":1") {
		t.Errorf("server 1's address %q, want mem-…:1", a)
	}
	check := func(what string, want func(error) bool) {
		t.Helper()
		if _, err, _ := memCall(ctx, f, 1, 200*time.Millisecond, caller.Gob); !want(err) {
			t.Errorf("%s: %v", what, err)
		}
	}
	isNil := func(err error) bool { return err == nil }
	refused := func(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }
	timedOut := func(err error) bool { var te *caller.TimeoutError; return errors.As(err, &te) }
	for _, step := range []struct {
		what string
		do   func(context.Context, int) error
		want func(error) bool
	}{
		{"killed", f.Kill, refused},
		{"restarted", f.Restart, isNil},
		{"paused", f.Pause, timedOut},
		{"unpaused", f.Unpause, isNil},
		{"disconnected", f.Disconnect, refused},
		{"reconnected", f.Reconnect, isNil},
	} {
		if err := step.do(ctx, 1); err != nil {
			t.Fatalf("%s: %v", step.what, err)
		}
		check(step.what, step.want)
	}

	if err := f.SetServerFaults(ctx, 0, faults.MustParse("hold")); err != nil {
		t.Fatal(err)
	}
	if err := f.ResetCalls(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err, _ := memCall(ctx, f, 0, 10*time.Second, caller.Gob); done <- err }()
	waitOutcomes(t, f, 1, fleet.Held)
	if err := f.Release(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Errorf("released call: %v", err)
	}
	if _, err := f.Dial(ctx, "127.0.0.1:1"); err == nil {
		t.Error("a memory fleet's Dial reached a TCP address")
	}
}

// WithMemory refuses what it cannot honour, naming it.
func TestMemoryOptionsRefused(t *testing.T) {
	for _, tt := range []struct {
		opt  fleet.Option
		want string
	}{
		{fleet.WithControl(0), "WithControl"},
		{fleet.WithBasePort(9000), "WithBasePort(9000)"},
		{fleet.WithUnixSockets(t.TempDir()), "WithUnixSockets"},
		{fleet.WithServers(fleet.MaxMemoryServers + 1), "want 1..1048576 servers"},
	} {
		_, err := fleet.Start(context.Background(), fleet.WithMemory(), tt.opt)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("error %v, want one naming %s", err, tt.want)
		}
	}
}
