package attach_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/rpc"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rpcfleet/rpcfleet/caller"
	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/fleet/attach"
)

// served starts an in-process fleet with control ports, the servers an
// attached fleet steers, and stops it when the test ends.
func served(t *testing.T, opts ...fleet.Option) *fleet.Fleet {
	t.Helper()
	f, err := fleet.Start(t.Context(), append([]fleet.Option{fleet.WithControl(0), fleet.WithFleetID("under-test")}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Stop(context.Background()) })
	return f
}

// attached attaches a fleet of n servers to src and stops it when the
// test ends.
func attached(t *testing.T, src attach.Source, n int, opts ...fleet.Option) *fleet.Fleet {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	f, err := fleet.Start(ctx, append([]fleet.Option{fleet.WithServers(n), fleet.WithBackend(attach.New(src))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := f.Stop(context.Background()); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return f
}

// call sends Service.Method to addr and returns the reply's message.
func call(addr string) (string, error) {
	c, err := rpc.Dial("tcp", addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	var r fleet.Reply
	err = c.Call("Service.Method", fleet.Args{Name: "Ann"}, &r)
	return r.Message, err
}

func TestAttachOrdersByIndexAndSteersThroughControl(t *testing.T) {
	ctx := t.Context()
	under := served(t, fleet.WithServers(4))
	ctl := under.ControlAddrs()
	rand.Shuffle(len(ctl), func(i, j int) { ctl[i], ctl[j] = ctl[j], ctl[i] })
	f := attached(t, attach.Addrs(ctl...), 4, fleet.WithFaults(faults.MustParse("error=at-start,servers=2")))

	if got, want := f.Addrs(), under.Addrs(); !slices.Equal(got, want) {
		t.Fatalf("Addrs() = %v, want the servers' own in index order %v", got, want)
	}
	if _, err := call(f.Addrs()[2]); err == nil || err.Error() != "at-start" {
		t.Fatalf("server 2 with the fleet's plan: err = %v, want at-start", err)
	}
	if err := f.SetServerFaults(ctx, 1, faults.MustParse("error=later")); err != nil {
		t.Fatal(err)
	}
	if _, err := call(f.Addrs()[1]); err == nil || err.Error() != "later" {
		t.Fatalf("server 1 after SetServerFaults: err = %v, want later", err)
	}
	calls, err := f.Calls(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 2 || calls[0].Server != 2 || calls[1].Server != 1 || calls[1].Fault != "error=later" {
		t.Fatalf("journal = %+v, want server 2's call then server 1's", calls)
	}
	for _, c := range calls {
		if c.Uncertainty != 0 {
			t.Errorf("call of server %d: Uncertainty %v on this host's own clock, want 0", c.Server, c.Uncertainty)
		}
	}
	if err := f.ClearFaults(ctx); err != nil {
		t.Fatal(err)
	}

	// Kill without a process to end: down at once, refused, until Restart.
	if err := f.Kill(ctx, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := call(f.Addrs()[3]); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("killed server: err = %v, want ECONNREFUSED", err)
	}
	if err := f.Restart(ctx, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := call(f.Addrs()[3]); err != nil {
		t.Fatalf("restarted server: %v", err)
	}

	// Pause: the dial completes, the call waits until Unpause.
	if err := f.Pause(ctx, 0); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := call(f.Addrs()[0]); done <- err }()
	select {
	case err := <-done:
		t.Fatalf("a call to a paused server returned: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	if err := f.Unpause(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("the call that waited on the paused server: %v", err)
	}
	if err := f.Disconnect(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := call(f.Addrs()[0]); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("disconnected server: err = %v, want ECONNREFUSED", err)
	}
	if err := f.Reconnect(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := f.OpenConns(ctx, 0); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("OpenConns: err = %v, want errors.ErrUnsupported", err)
	}

	// Stop detaches: the servers serve on, with no faults.
	if err := f.SetFaults(ctx, faults.MustParse("error=left")); err != nil {
		t.Fatal(err)
	}
	if err := f.Pause(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := f.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	for i, a := range under.Addrs() {
		if _, err := call(a); err != nil {
			t.Errorf("server %d after the attached fleet stopped: %v", i, err)
		}
	}
}

func TestAttachReseedsAsAFreshFleet(t *testing.T) {
	// servers=50% picks by seed and fleet size: an attached fleet picks
	// the servers an in-process fleet with its seed picks, whatever seed
	// the servers were started with.
	plan := fleet.WithFaults(faults.MustParse("error=picked,servers=50%"))
	picked := func(f *fleet.Fleet) []int {
		rs, _ := caller.FanOut[fleet.Args, fleet.Reply](t.Context(), caller.New(), f.Addrs(), "Service.Method", fleet.Args{Name: "x"})
		var out []int
		for i, r := range rs {
			if r.Err != nil {
				out = append(out, i)
			}
		}
		return out
	}
	const n = 8
	for _, seed := range []uint64{3, 4} {
		want := picked(served(t, fleet.WithServers(n), fleet.WithSeed(seed), plan))
		under := served(t, fleet.WithServers(n), fleet.WithSeed(99))
		got := picked(attached(t, attach.Addrs(under.ControlAddrs()...), n, fleet.WithSeed(seed), plan))
		if !slices.Equal(got, want) {
			t.Errorf("seed %d: attached fleet picked %v, an in-process one %v", seed, got, want)
		}
	}
}

func TestAttachRefuses(t *testing.T) {
	ctx := t.Context()
	a := served(t, fleet.WithServers(2))
	b := served(t, fleet.WithServers(2), fleet.WithFleetID("other"))
	start := func(src attach.Source, n int, opts ...fleet.Option) error {
		ctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		defer cancel()
		f, err := fleet.Start(ctx, append([]fleet.Option{fleet.WithServers(n), fleet.WithBackend(attach.New(src, attach.WithPoll(20*time.Millisecond)))}, opts...)...)
		if err == nil {
			f.Stop(ctx)
		}
		return err
	}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"two fleets", start(attach.Addrs(append(a.ControlAddrs(), b.ControlAddrs()...)...), 2), `pass WithFleetID to pick one`},
		{"a missing index", start(attach.Addrs(a.ControlAddrs()[1]), 2), `servers 0 of fleet "under-test" did not answer (found 1 of 2)`},
		{"an index twice", start(attach.Addrs(a.ControlAddrs()[0], served(t, fleet.WithServers(1)).ControlAddrs()[0]), 1), `both answer as server 0`},
		{"another fleet's id", start(attach.Addrs(b.ControlAddrs()...), 2, fleet.WithFleetID("under-test")), `did not answer`},
		{"user services", start(attach.Addrs(a.ControlAddrs()...), 2, fleet.WithService("KV", func(int) any { return nil })), `WithService("KV")`},
		{"a clock skew", start(attach.Addrs(a.ControlAddrs()...), 2, fleet.WithClockSkew(time.Second)), `rpcfleet serve --clock-skew`},
	} {
		if tc.err == nil || !contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to say %q", tc.name, tc.err, tc.want)
		}
	}
}

func TestTokenBeyondLoopback(t *testing.T) {
	under := served(t, fleet.WithServers(1), fleet.WithControlToken("s3cret"))
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	// Without the token the server refuses, and the fleet cannot start.
	_, err := fleet.Start(ctx, fleet.WithServers(1), fleet.WithBackend(attach.New(attach.Addrs(under.ControlAddrs()...))))
	if err == nil || !contains(err.Error(), "control token") {
		t.Fatalf("without the token: err = %v, want the server's refusal", err)
	}
	attached(t, attach.Addrs(under.ControlAddrs()...), 1, fleet.WithControlToken("s3cret"))

	// Beyond loopback the backend asks for the token before it dials
	// (192.0.2.0/24 is TEST-NET-1: nothing is sent there).
	ctx, cancel = context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	_, err = fleet.Start(ctx, fleet.WithServers(1), fleet.WithBackend(attach.New(attach.Addrs("192.0.2.1:7001"))))
	if err == nil || !contains(err.Error(), "192.0.2.1:7001 is beyond loopback: attaching to it needs the control token") {
		t.Fatalf("beyond loopback without a token: err = %v", err)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// WithSettle: Stop waits after a blackhole, for dials a port proxy
// retries, and only then.
func TestSettleAfterABlackhole(t *testing.T) {
	ctx := t.Context()
	under := served(t, fleet.WithServers(2))
	const settle = 300 * time.Millisecond
	for _, tc := range []struct {
		plan string
		wait bool
	}{{"delay=1ms", false}, {"blackhole,servers=1", true}} {
		f, err := fleet.Start(ctx, fleet.WithServers(2), fleet.WithBackend(attach.New(attach.Addrs(under.ControlAddrs()...), attach.WithSettle(settle))))
		if err != nil {
			t.Fatal(err)
		}
		if err := f.SetFaults(ctx, faults.MustParse(tc.plan)); err != nil {
			t.Fatal(err)
		}
		began := time.Now()
		if err := f.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(began); tc.wait && took < settle {
			t.Errorf("%s: Stop took %v, want at least the settle time %v", tc.plan, took, settle)
		}
	}
}
