package attach_test

import (
	"context"
	"testing"
	"time"

	"github.com/rpcfleet/rpcfleet/caller"
	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/fleet/attach"
	"github.com/rpcfleet/rpcfleet/fleet/driver"
)

// A server whose clock is shifted by a known amount (fleet.WithClockSkew,
// rpcfleet serve --clock-skew, the test hook): the estimate finds the
// shift within its stated uncertainty, and the merged journal is in the
// true order, which the raw times would get wrong.
func TestClockOffsetOfAShiftedServer(t *testing.T) {
	for _, skew := range []time.Duration{3 * time.Second, -2 * time.Second} {
		t.Run(skew.String(), func(t *testing.T) {
			ctx := t.Context()
			// Server 0 on this clock, server 1 skew ahead: one fleet id,
			// two in-process fleets.
			s0 := served(t, fleet.WithServers(1), fleet.WithFleetSize(2))
			s1 := served(t, fleet.WithServers(1), fleet.WithFirstIndex(1), fleet.WithFleetSize(2), fleet.WithClockSkew(skew))
			f := attached(t, attach.Addrs(s1.ControlAddrs()[0], s0.ControlAddrs()[0]), 2)

			c0, err := f.Clock(ctx, 0)
			if err != nil {
				t.Fatal(err)
			}
			if c0 != (driver.Clock{}) {
				t.Errorf("server 0 on this host's clock: Clock %v, want zero", c0)
			}
			c1, err := f.Clock(ctx, 1)
			if err != nil {
				t.Fatal(err)
			}
			if d := c1.Offset - skew; d > c1.Uncertainty || d < -c1.Uncertainty {
				t.Errorf("server 1 shifted by %v: estimated %v, off by %v, beyond the stated uncertainty", skew, c1, d)
			}
			if c1.Uncertainty <= 0 || c1.Uncertainty > 100*time.Millisecond {
				t.Errorf("server 1: uncertainty %v, want a loopback round trip's half (above 0, well under 100ms)", c1.Uncertainty)
			}

			// Server 0 replies 300ms after its call, server 1 at once:
			// server 1's reply comes first.
			if err := f.SetServerFaults(ctx, 0, faults.MustParse("delay=300ms")); err != nil {
				t.Fatal(err)
			}
			c := caller.New()
			defer c.Close()
			if _, err := caller.FanOut[fleet.Args, fleet.Reply](ctx, c, f.Addrs(), "Service.Method", fleet.Args{Name: "x"}); err != nil {
				t.Fatal(err)
			}
			calls, err := f.Calls(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(calls) != 2 {
				t.Fatalf("journal: %d calls, want 2", len(calls))
			}
			by := map[int]fleet.Call{}
			for _, c := range calls {
				by[c.Server] = c
			}
			if !(by[1].RepliedAt < by[0].RepliedAt) {
				t.Errorf("merged journal: server 1 replied at %d, server 0 at %d; want server 1 first", by[1].RepliedAt, by[0].RepliedAt)
			}
			if by[1].Uncertainty != c1.Uncertainty || by[0].Uncertainty != 0 {
				t.Errorf("uncertainties %v and %v, want 0 and %v", by[0].Uncertainty, by[1].Uncertainty, c1.Uncertainty)
			}
			if d := by[1].Received.Sub(by[0].Received); d > 50*time.Millisecond || d < -50*time.Millisecond {
				t.Errorf("corrected receipts %v apart, want about together (both sent at once)", d)
			}
			// The raw times, through the control port: server 1's are
			// skew off, enough to get the order wrong one way or the
			// other.
			cc, err := driver.DialControl(ctx, s1.ControlAddrs()[0])
			if err != nil {
				t.Fatal(err)
			}
			defer cc.Close()
			raw, err := cc.Journal(ctx)
			if err != nil || len(raw) != 1 {
				t.Fatalf("raw journal of server 1: %v, %v", raw, err)
			}
			if d := raw[0].Received.Sub(by[1].Received) - skew; d > c1.Uncertainty || d < -c1.Uncertainty {
				t.Errorf("raw receipt of server 1 is %v off the corrected one, want the skew %v", raw[0].Received.Sub(by[1].Received), skew)
			}
		})
	}
}

// A server process started with --clock-skew: the same through rpcfleet serve.
func TestClockSkewFlag(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	g := processes(t, ctx, 1, "--clock-skew", "90s")
	f := attached(t, g, 1)
	c, err := f.Clock(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if d := c.Offset - 90*time.Second; d > c.Uncertainty || d < -c.Uncertainty {
		t.Errorf("rpcfleet serve --clock-skew 90s: estimated %v", c)
	}
}
