package container_test

import (
	"context"
	"fmt"
	"net/rpc"
	"strings"
	"testing"
	"time"

	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/fleet/container"
)

// A fleet a Pool starts on the containers of an earlier fleet, which
// changed, killed, paused and cut off its servers and left a connection
// open, is indistinguishable from a fleet of new containers: the same
// seeded decisions, the same journal, every server up, and nothing of the
// earlier fleet reaching it.
func TestPoolReusesRenewedContainers(t *testing.T) {
	const image = "rpcfleet:dev"
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := container.Available(ctx); err != nil {
		skipOrFail(t, "no Docker engine: %v", err)
	}
	t.Setenv(container.RyukEnv, "true")
	pool := container.NewPool(container.New(image))
	t.Cleanup(func() {
		if err := pool.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	used, err := fleet.Start(ctx, fleet.WithServers(4), fleet.WithBackend(pool), fleet.WithSeed(1),
		fleet.WithFaults(faults.MustParse("error=old,p=0.5")))
	if err != nil {
		if strings.Contains(err.Error(), "not found locally") {
			skipOrFail(t, "%v", err)
		}
		t.Fatal(err)
	}
	kept, err := rpc.Dial("tcp", used.Addrs()[3])
	if err != nil {
		t.Fatal(err)
	}
	defer kept.Close()
	for range 5 {
		fanOut(used.Addrs())
	}
	steps := []struct {
		what string
		do   func(context.Context, int) error
		i    int
	}{
		{"kill", used.Kill, 0},
		{"pause", used.Pause, 1},
		{"disconnect", used.Disconnect, 2},
	}
	for _, s := range steps {
		if err := s.do(ctx, s.i); err != nil {
			t.Fatalf("%s server %d: %v", s.what, s.i, err)
		}
	}
	if err := used.SetServerFaults(ctx, 3, faults.MustParse("crash")); err != nil {
		t.Fatal(err)
	}
	fanOut(used.Addrs()[3:])
	if err := used.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := pool.Stats(), (container.PoolStats{Created: 4, Idle: 4}); got != want {
		t.Fatalf("Stats() after the first fleet = %+v, want %+v", got, want)
	}
	if err := used.Kill(ctx, 1); err == nil || !strings.Contains(err.Error(), "its fleet has stopped") {
		t.Errorf("Kill through a stopped fleet of the pool: %v, want an error", err)
	}
	if err := kept.Call("Service.Method", fleet.Args{Name: "x"}, &fleet.Reply{}); err == nil {
		t.Error("a connection to the stopped fleet still serves")
	}

	plan := faults.MustParse("error=flaky,p=0.4;delay=1ms,jitter=1ms,p=0.5;error=picked,servers=50%,first=2")
	opts := []fleet.Option{fleet.WithServers(5), fleet.WithSeed(7), fleet.WithFaults(plan)}
	reused, err := fleet.Start(ctx, append(opts, fleet.WithBackend(pool))...)
	if err != nil {
		t.Fatal(err)
	}
	defer reused.Stop(ctx)
	if got, want := pool.Stats(), (container.PoolStats{Created: 5, Reused: 4}); got != want {
		t.Fatalf("Stats() after the second fleet = %+v, want %+v", got, want)
	}
	fresh, err := fleet.Start(ctx, append(opts, fleet.WithBackend(container.New(image)))...)
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Stop(ctx)

	for _, f := range []*fleet.Fleet{reused, fresh} {
		// A new process of a kept container has the command line of the
		// first fleet (its seed, its faults): Restart renews it.
		if err := f.Kill(ctx, 0); err != nil {
			t.Fatal(err)
		}
		if err := f.Restart(ctx, 0); err != nil {
			t.Fatal(err)
		}
		for range 8 {
			fanOut(f.Addrs())
		}
	}
	got, want := journal(t, ctx, reused), journal(t, ctx, fresh)
	if got != want {
		t.Errorf("the fleet on kept containers journalled\n%s\nwant that of new containers\n%s", got, want)
	}
}

// fanOut calls Service.Method on every address, one after another, and
// ignores the outcomes: the journal tells them.
func fanOut(addrs []string) {
	for _, a := range addrs {
		c, err := rpc.Dial("tcp", a)
		if err != nil {
			continue
		}
		c.Call("Service.Method", fleet.Args{Name: "x"}, &fleet.Reply{})
		c.Close()
	}
}

// journal is the fleet's journal as text, without times and addresses.
func journal(t *testing.T, ctx context.Context, f *fleet.Fleet) string {
	t.Helper()
	calls, err := f.Calls(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, c := range calls {
		fmt.Fprintf(&b, "server %d call %d %s: rule %d %s, delay rule %d %v: %v %s\n",
			c.Server, c.N, c.Method, c.Rule, c.Fault, c.DelayRule, c.Delay, c.Outcome, c.Err)
	}
	return b.String()
}

// A request that a blackholed server's port proxy still holds when its
// fleet stops does not reach the next fleet on the same container:
// Docker's proxy accepts the client and keeps dialling the container
// after the client has closed, so a renewal alone would let its next SYN
// through.
func TestPoolForgetsDialsHeldByABlackhole(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := container.Available(ctx); err != nil {
		skipOrFail(t, "no Docker engine: %v", err)
	}
	t.Setenv(container.RyukEnv, "true")
	pool := container.NewPool(container.New("rpcfleet:dev"))
	t.Cleanup(func() {
		if err := pool.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	used, err := fleet.Start(ctx, fleet.WithServers(1), fleet.WithBackend(pool))
	if err != nil {
		if strings.Contains(err.Error(), "not found locally") {
			skipOrFail(t, "%v", err)
		}
		t.Fatal(err)
	}
	if err := used.SetFaults(ctx, faults.MustParse("blackhole")); err != nil {
		t.Fatal(err)
	}
	c, err := rpc.Dial("tcp", used.Addrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	call := c.Go("Service.Method", fleet.Args{Name: "stale"}, &fleet.Reply{}, nil)
	select {
	case <-call.Done:
		t.Fatalf("a blackholed server answered: %v", call.Error)
	case <-time.After(1500 * time.Millisecond):
	}
	c.Close()
	if err := used.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	next, err := fleet.Start(ctx, fleet.WithServers(1), fleet.WithBackend(pool))
	if err != nil {
		t.Fatal(err)
	}
	defer next.Stop(context.Background())
	// The proxy's SYNs go out 1s, 3s, 7s and 15s after its first: 8s
	// covers at least two of them after the renewal (the first came 0.6s
	// after Start, before the fix).
	const watch = 8 * time.Second
	deadline := time.Now().Add(watch)
	for time.Now().Before(deadline) {
		calls, err := next.Calls(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(calls) > 0 {
			t.Fatalf("after %v a call of the earlier fleet reached the next: %+v", watch-time.Until(deadline), calls)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
