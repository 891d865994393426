package caller

import (
	"errors"
	"testing"
	"time"

	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
)

// The default path waits for the calls on warm connections from FanOut's
// own goroutine, in the order their replies come: each Result's Latency is
// that call's own, not the time until FanOut got round to it.
func TestFanOutWarmLatencyIsEachCallsOwn(t *testing.T) {
	const delay = 500 * time.Millisecond
	f := startFleet(t, 4)
	c := New()
	defer c.Close()
	addrs := f.Addrs()
	if _, err := fanOut(t.Context(), c, addrs); err != nil {
		t.Fatal(err)
	}
	if err := f.SetServerFaults(t.Context(), 0, faults.MustParse("delay=500ms")); err != nil {
		t.Fatal(err)
	}

	results, err := fanOut(t.Context(), c, addrs)
	if err != nil {
		t.Fatal(err)
	}
	if got := results[0].Latency; got < delay {
		t.Errorf("results[0].Latency = %v, want at least the server's delay %v", got, delay)
	}
	for i, r := range results[1:] {
		if r.Latency >= delay/2 {
			t.Errorf("results[%d].Latency = %v, want well under server 0's delay %v: it is not its own", i+1, r.Latency, delay)
		}
	}
}

// A call on a warm connection that outlives the per-call timeout is
// abandoned: it is a *TimeoutError with the zero reply, counted as
// abandoned on its connection and no longer active, and its late reply
// (written by net/rpc after FanOut returned) never reaches the results,
// which -race would report.
func TestFanOutWarmTimeoutAbandonsTheCall(t *testing.T) {
	f := startFleet(t, 3)
	c := New(WithTimeout(100 * time.Millisecond))
	defer c.Close()
	addrs := f.Addrs()
	if _, err := fanOut(t.Context(), c, addrs); err != nil {
		t.Fatal(err)
	}
	if err := f.SetServerFaults(t.Context(), 1, faults.MustParse("delay=300ms")); err != nil {
		t.Fatal(err)
	}

	results, err := fanOut(t.Context(), c, addrs)
	var te *TimeoutError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v, want a *TimeoutError", err)
	}
	if !errors.As(results[1].Err, &te) || results[1].Reply != (fleet.Reply{}) || results[1].Attempts != 1 || results[1].Cancelled {
		t.Errorf("results[1] = %+v, want a timeout with one attempt and no reply", results[1])
	}
	for _, i := range []int{0, 2} {
		if r := results[i]; r.Err != nil || r.From != addrs[i] {
			t.Errorf("results[%d] = %+v, want a reply from %s", i, r, addrs[i])
		}
	}
	time.Sleep(400 * time.Millisecond) // the late reply comes in
	if results[1].Reply != (fleet.Reply{}) {
		t.Errorf("results[1].Reply = %+v after the late reply, want the zero reply", results[1].Reply)
	}
	c.pool.mu.Lock()
	cn := c.pool.conns[addrs[1]]
	c.pool.mu.Unlock()
	if cn == nil {
		t.Fatalf("pool holds no connection for %s, want the one the call was abandoned on", addrs[1])
	}
	if a, ab := cn.active.Load(), cn.abandoned.Load(); a != 0 || ab != 1 {
		t.Errorf("connection of %s: %d active, %d abandoned; want 0 and 1", addrs[1], a, ab)
	}
}
