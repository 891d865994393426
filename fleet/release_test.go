package fleet_test

import (
	"context"
	"net/rpc"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
)

// heldCall sends Service.Method to addr on a connection of its own, closed
// by the test's cleanup, and returns the pending call.
func heldCall(t *testing.T, addr, name string) *rpc.Call {
	t.Helper()
	c, err := rpc.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.Go("Service.Method", fleet.Args{Name: name}, new(fleet.Reply), make(chan *rpc.Call, 1))
}

// waitOutcomes waits until the journal holds n calls, each with outcome o.
func waitOutcomes(t *testing.T, f *fleet.Fleet, n int, o fleet.Outcome) []fleet.Call {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		calls, err := f.Calls(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(calls) == n && !slices.ContainsFunc(calls, func(c fleet.Call) bool { return c.Outcome != o }) {
			return calls
		}
		if time.Now().After(deadline) {
			t.Fatalf("want %d calls %v, journal holds %+v", n, o, calls)
		}
		time.Sleep(time.Millisecond)
	}
}

// done reports whether call has ended, without waiting.
func done(call *rpc.Call) bool {
	select {
	case <-call.Done:
		call.Done <- call // leave it for the next look
		return true
	default:
		return false
	}
}

// Replies held by a Hold fault go out when, and in the order, the test
// releases them: server 3 first, then 1, then the rest in index order.
func TestReleaseSendsHeldRepliesInTheOrderAsked(t *testing.T) {
	ctx := context.Background()
	f := start(t, fleet.WithServers(5), fleet.WithFaults(faults.MustParse("hold")))
	calls := make([]*rpc.Call, f.Len())
	for i, a := range f.Addrs() {
		calls[i] = heldCall(t, a, "Hal")
	}
	waitOutcomes(t, f, 5, fleet.Held)
	for i, c := range calls {
		if done(c) {
			t.Fatalf("call %d ended before any release: %v", i, c.Error)
		}
	}

	if err := f.Release(ctx, 3); err != nil {
		t.Fatal(err)
	}
	<-calls[3].Done
	calls[3].Done <- calls[3] // for the last look
	if calls[3].Error != nil || !strings.HasPrefix(calls[3].Reply.(*fleet.Reply).Message, "Hello, Hal! (server 3 ") {
		t.Fatalf("released call 3: %v, %+v", calls[3].Error, calls[3].Reply)
	}
	for _, i := range []int{0, 1, 2, 4} {
		if done(calls[i]) {
			t.Fatalf("call %d ended with server 3's release", i)
		}
	}
	if err := f.Release(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := f.ReleaseAll(ctx); err != nil {
		t.Fatal(err)
	}
	for i, c := range calls {
		if <-c.Done; c.Error != nil {
			t.Errorf("call %d: %v", i, c.Error)
		}
	}
	journal := waitOutcomes(t, f, 5, fleet.OK)
	slices.SortFunc(journal, func(a, b fleet.Call) int { return int(a.RepliedAt) - int(b.RepliedAt) })
	var order []int
	for _, c := range journal {
		order = append(order, c.Server)
	}
	if want := []int{3, 1, 0, 2, 4}; !slices.Equal(order, want) {
		t.Errorf("replies written in server order %v, want %v", order, want)
	}
	if err := f.Release(ctx, 2); err != nil {
		t.Errorf("releasing a server that holds nothing: %v", err)
	}
	if err := f.Release(ctx, 5); err == nil || !strings.Contains(err.Error(), "no such server") {
		t.Errorf("Release(5) of 5 servers: %v, want no such server", err)
	}
}

// Two replies held on one connection go out in the order they were held;
// a delay passes before a reply is held; a held reply whose connection
// closes is lost, and the journal says so.
func TestHoldKeepsOrderAfterDelaysAndLosesClosedConnections(t *testing.T) {
	ctx := context.Background()
	f := start(t, fleet.WithServers(2), fleet.WithFaults(faults.MustParse("delay=20ms;hold")))
	c, err := rpc.Dial("tcp", f.Addrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	first := c.Go("Service.Method", fleet.Args{Name: "a"}, new(fleet.Reply), make(chan *rpc.Call, 1))
	waitOutcomes(t, f, 1, fleet.Held)
	second := c.Go("Service.Method", fleet.Args{Name: "b"}, new(fleet.Reply), make(chan *rpc.Call, 1))
	lost := heldCall(t, f.Addrs()[1], "c")
	held := waitOutcomes(t, f, 3, fleet.Held)
	for _, h := range held {
		if h.Delay != 20*time.Millisecond || h.Fault != "hold" {
			t.Errorf("held call %+v: want delay 20ms and fault hold", h)
		}
	}

	// Server 1 goes down while it holds a reply: the reply is lost.
	if err := f.Kill(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := f.Release(ctx, 0); err != nil {
		t.Fatal(err)
	}
	for _, cl := range []*rpc.Call{first, second} {
		if <-cl.Done; cl.Error != nil {
			t.Fatal(cl.Error)
		}
	}
	if <-lost.Done; lost.Error == nil {
		t.Error("a call whose server was killed while holding its reply succeeded")
	}
	journal, err := f.Calls(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if journal[0].RepliedAt >= journal[1].RepliedAt || journal[0].Outcome != fleet.OK || journal[1].Outcome != fleet.OK {
		t.Errorf("replies on one connection: %+v, want the first held written first", journal[:2])
	}
	if journal[2].Outcome != fleet.Aborted {
		t.Errorf("held reply of a killed server: %+v, want aborted", journal[2])
	}
}

// A paused server cannot write what it holds: Release says so.
func TestReleaseOfAPausedServer(t *testing.T) {
	ctx := context.Background()
	f := start(t, fleet.WithServers(1))
	if err := f.Pause(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if err := f.Release(ctx, 0); err == nil || !strings.Contains(err.Error(), "paused") {
		t.Errorf("Release of a paused server: %v, want an error saying it is paused", err)
	}
	if err := f.Unpause(ctx, 0); err != nil {
		t.Fatal(err)
	}
}
