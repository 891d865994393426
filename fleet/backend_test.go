package fleet

import (
	"context"
	"testing"
	"time"

	"github.com/rpcfleet/rpcfleet/faults"
)

func TestMergeCallsOrdersByTheSharedClock(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	// Two processes, each numbering its own events from 1.
	a := []Call{
		{ID: 0, Server: 0, Received: at(0), ReceivedAt: 1, Replied: at(50), RepliedAt: 3},
		{ID: 1, Server: 0, Received: at(10), ReceivedAt: 2}, // hung: no reply
	}
	b := []Call{
		{ID: 0, Server: 1, Received: at(5), ReceivedAt: 1, Replied: at(20), RepliedAt: 2},
		{ID: 1, Server: 1, Received: at(50), ReceivedAt: 3, Replied: at(60), RepliedAt: 4}, // received as a's first replies
	}
	got := mergeCalls([][]Call{a, b})
	want := []struct {
		server              int
		received, replied   uint64
		receivedAt, replyAt int // ms, for the message
	}{
		{0, 1, 5, 0, 50},
		{1, 2, 4, 5, 20},
		{0, 3, 0, 10, -1},
		{1, 6, 7, 50, 60},
	}
	if len(got) != len(want) {
		t.Fatalf("merged %d calls, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.ID != i || g.Server != w.server || g.ReceivedAt != w.received || g.RepliedAt != w.replied {
			t.Errorf("call %d = {ID %d, Server %d, ReceivedAt %d, RepliedAt %d}, want {ID %d, Server %d, ReceivedAt %d, RepliedAt %d}",
				i, g.ID, g.Server, g.ReceivedAt, g.RepliedAt, i, w.server, w.received, w.replied)
		}
	}
	if a[0].ReceivedAt != 1 || b[1].RepliedAt != 4 {
		t.Error("mergeCalls changed its input")
	}
}

func TestInProcessNodes(t *testing.T) {
	ctx := t.Context()
	f, err := Start(ctx, WithServers(2), WithBackend(InProcess()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Stop(context.Background())
	if err := f.SetServerFaults(ctx, 1, faults.MustParse("error=x")); err != nil {
		t.Fatal(err)
	}
	if p := f.Server(1).Faults().String(); p != "error=x" {
		t.Errorf("server 1 plan %q after SetServerFaults", p)
	}
	if f.Server(0).Addr() != f.Addrs()[0] || f.Journal() == nil {
		t.Error("Server or Journal of an in-process fleet disagree with Addrs")
	}
	for _, op := range []struct {
		name string
		fn   func(context.Context, int) error
	}{{"Pause", f.Pause}, {"Unpause", f.Unpause}, {"Disconnect", f.Disconnect}, {"Reconnect", f.Reconnect}} {
		if err := op.fn(ctx, 0); err != nil {
			t.Errorf("%s on an in-process server: %v", op.name, err)
		}
	}
	if err := f.SetServerFaults(ctx, 2, faults.Plan{}); err == nil {
		t.Error("SetServerFaults(2) on a fleet of 2 succeeded")
	}
	if _, err := f.ServerCalls(ctx, 1); err != nil {
		t.Error(err)
	}
}
