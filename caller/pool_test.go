package caller

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
)

// startFleet starts n in-process servers, stopped when t ends.
func startFleet(t *testing.T, n int) *fleet.Fleet {
	t.Helper()
	f, err := fleet.Start(t.Context(), fleet.WithServers(n))
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

func fanOut(ctx context.Context, c *Caller, addrs []string) ([]Result[fleet.Reply], error) {
	return FanOut[fleet.Args, fleet.Reply](ctx, c, addrs, "Service.Method", fleet.Args{Name: "t"})
}

// A warm connection whose client was shut down since the last fan-out
// (here: closed by hand, as the pool's retire does) never carries the
// request: FanOut sees that at once, redials, and the call succeeds.
func TestFanOutRedialsShutDownClient(t *testing.T) {
	f := startFleet(t, 3)
	c := New()
	defer c.Close()
	addrs := f.Addrs()
	if _, err := fanOut(t.Context(), c, addrs); err != nil {
		t.Fatal(err)
	}
	c.pool.mu.Lock()
	old := c.pool.conns[addrs[1]]
	c.pool.mu.Unlock()
	if err := old.client.Close(); err != nil {
		t.Fatal(err)
	}

	results, err := fanOut(t.Context(), c, addrs)
	if err != nil {
		t.Fatalf("fan-out after the shutdown: %v", err)
	}
	for i, r := range results {
		if r.Attempts != 1 || r.From != addrs[i] {
			t.Errorf("results[%d]: Attempts %d, From %q; want 1 and %q", i, r.Attempts, r.From, addrs[i])
		}
	}
	c.pool.mu.Lock()
	cn := c.pool.conns[addrs[1]]
	c.pool.mu.Unlock()
	if cn == nil || cn == old {
		t.Errorf("pool holds %p for %s, want a new connection (old %p)", cn, addrs[1], old)
	}
	if n := journalLen(t, f); n != 6 {
		t.Errorf("journal holds %d calls, want 6: the shut-down client sent nothing", n)
	}
}

// With ctx already ended, FanOut sends nothing, not even on warm
// connections, counts no attempt and leaves no call counted active on
// them; on the strategy path too.
func TestFanOutEndedContextSendsNothing(t *testing.T) {
	for _, opts := range [][]Option{nil, {WithRetry(3, time.Millisecond, time.Millisecond)}} {
		t.Run(fmt.Sprintf("strategic=%v", opts != nil), func(t *testing.T) {
			testEndedContextSendsNothing(t, opts...)
		})
	}
}

func testEndedContextSendsNothing(t *testing.T, opts ...Option) {
	f := startFleet(t, 4)
	c := New(opts...)
	defer c.Close()
	addrs := f.Addrs()
	if _, err := fanOut(t.Context(), c, addrs); err != nil {
		t.Fatal(err)
	}
	if err := f.ResetCalls(t.Context()); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	results, err := fanOut(ctx, c, addrs)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	for i, r := range results {
		if !errors.Is(r.Err, context.Canceled) || !r.Cancelled || r.Attempts != 0 {
			t.Errorf("results[%d] = %+v, want a cancelled call with no attempt", i, r)
		}
	}
	if n := journalLen(t, f); n != 0 {
		t.Errorf("journal holds %d calls, want none", n)
	}
	c.pool.mu.Lock()
	defer c.pool.mu.Unlock()
	for addr, cn := range c.pool.conns {
		if n := cn.active.Load(); n != 0 {
			t.Errorf("%s: %d calls still counted active", addr, n)
		}
	}
}

// A dial that hangs (a blackholed server) ends as a *TimeoutError, which
// errors.Is context.DeadlineExceeded: the dial's own when WithDialTimeout
// is the shorter, the call's when WithTimeout is.
func TestDialThatHangsIsATimeout(t *testing.T) {
	for _, tc := range []struct {
		name       string
		call, dial time.Duration
		wantDial   bool
		wantAfter  time.Duration
	}{
		{"dial timeout first", 5 * time.Second, 200 * time.Millisecond, true, 200 * time.Millisecond},
		{"call timeout first", 200 * time.Millisecond, 5 * time.Second, false, 200 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := startFleet(t, 2)
			if err := f.SetServerFaults(t.Context(), 1, faults.MustParse("blackhole")); err != nil {
				t.Fatal(err)
			}
			c := New(WithTimeout(tc.call), WithDialTimeout(tc.dial))
			defer c.Close()
			results, err := fanOut(t.Context(), c, f.Addrs())
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("fan-out error = %v, want one that errors.Is context.DeadlineExceeded", err)
			}
			if results[0].Err != nil {
				t.Errorf("server 0: %v, want its reply", results[0].Err)
			}
			var te *TimeoutError
			if !errors.As(results[1].Err, &te) {
				t.Fatalf("server 1: %v (%T), want a *TimeoutError", results[1].Err, results[1].Err)
			}
			if te.Dial != tc.wantDial || te.After != tc.wantAfter {
				t.Errorf("server 1: %+v, want Dial %v After %v", *te, tc.wantDial, tc.wantAfter)
			}
		})
	}
}

// journalLen returns how many calls f's journal holds.
func journalLen(t *testing.T, f *fleet.Fleet) int {
	t.Helper()
	calls, err := f.Calls(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return len(calls)
}

// With WithMaxConns(2), a fan-out to 6 servers leaves 2 connections open,
// the others closed as their calls end, as the servers see; the next
// fan-out redials the rest and answers every call. On the default path
// (requests on warm connections sent by FanOut itself) and on the
// strategy path (WithConcurrency).
func TestMaxConnsBoundsTheConnectionsKept(t *testing.T) {
	for _, opts := range [][]Option{{WithMaxConns(2)}, {WithMaxConns(2), WithConcurrency(2)}} {
		t.Run(fmt.Sprintf("strategic=%v", len(opts) > 1), func(t *testing.T) {
			f := startFleet(t, 6)
			c := New(opts...)
			defer c.Close()
			addrs := f.Addrs()
			for round := range 3 {
				results, err := fanOut(t.Context(), c, addrs)
				if err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
				for i, r := range results {
					if r.Err != nil || r.From != addrs[i] {
						t.Errorf("round %d, results[%d]: %v from %q", round, i, r.Err, r.From)
					}
				}
				if n := pooled(c); n != 2 {
					t.Errorf("round %d: the pool holds %d connections, want 2", round, n)
				}
			}
			serverSide := func() (open int) {
				for i := range addrs {
					n, err := f.OpenConns(t.Context(), i)
					if err != nil {
						t.Fatal(err)
					}
					open += n
				}
				return open
			}
			deadline := time.Now().Add(5 * time.Second)
			for open := serverSide(); open != 2; open = serverSide() {
				if time.Now().After(deadline) {
					t.Fatalf("the servers hold %d open connections, want 2", open)
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

// Fan-outs sharing a Caller with WithMaxConns(1) keep taking and retiring
// the same connections at once: no call fails for it (a call never lands
// on a connection being closed), and the pool ends with one.
func TestMaxConnsUnderSharedFanOuts(t *testing.T) {
	f := startFleet(t, 4)
	c := New(WithMaxConns(1))
	defer c.Close()
	addrs := f.Addrs()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for round := range 50 {
				if _, err := fanOut(t.Context(), c, addrs); err != nil {
					t.Errorf("round %d: %v", round, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := pooled(c); n != 1 {
		t.Errorf("the pool holds %d connections, want 1", n)
	}
}

// pooled is how many connections c's pool holds.
func pooled(c *Caller) int {
	c.pool.mu.Lock()
	defer c.pool.mu.Unlock()
	return len(c.pool.conns)
}
