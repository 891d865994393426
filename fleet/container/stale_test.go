package container

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/fleet/driver"
)

// TestDownNodeDialsNothing checks that a killed or stopped node neither
// reads its journal from nor sets faults through its old control port,
// which Docker may have handed to another container: Calls returns the
// earlier lives' calls, SetFaults keeps the plan for Restart.
func TestDownNodeDialsNothing(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0") // stands for whatever holds the old port now
	if err != nil {
		t.Fatal(err)
	}
	var dials atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			dials.Add(1)
			c.Close()
		}
	}()
	defer ln.Close()

	past := []driver.Call{{Method: "Service.Method", Server: 1}}
	n := &Node{cl: &cluster{id: "f1"}, index: 1, addr: "127.0.0.1:1", ctlAddr: ln.Addr().String(), st: down, past: past}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	calls, err := n.Calls(ctx)
	if err != nil || len(calls) != 1 {
		t.Errorf("Calls = %d calls, %v; want the 1 earlier call", len(calls), err)
	}
	p := faults.MustParse("error=boom")
	if err := n.SetFaults(ctx, p); err != nil {
		t.Errorf("SetFaults: %v", err)
	}
	if n.plan == nil || n.plan.String() != p.String() {
		t.Errorf("kept plan %v, want %v", n.plan, p)
	}
	time.Sleep(50 * time.Millisecond) // let a dial that happened be counted
	if d := dials.Load(); d != 0 {
		t.Errorf("%d dials to the old control port, want none", d)
	}
}

// TestControlChecksFleet checks that the node steers only its own server
// through a control address: another fleet's server of the same index
// (where a stale address may lead) is refused by the health check and by
// every control call, and its faults stay as they were.
func TestControlChecksFleet(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	server2 := func(id string) *fleet.Fleet {
		f, err := fleet.Start(ctx, fleet.WithServers(1), fleet.WithFirstIndex(2), fleet.WithControl(0), fleet.WithFleetID(id))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Stop(context.Background()) })
		return f
	}
	srv := server2("other")
	ctl := srv.ControlAddrs()[0]

	n := &Node{cl: &cluster{id: "mine"}, index: 2, ctlAddr: ctl, fleetID: "mine"}
	if err := (healthy{n: n}).check(ctx, ctl); !errors.Is(err, errStale) {
		t.Errorf("health check of another fleet's server 2: %v, want errStale", err)
	}
	if err := n.SetFaults(ctx, faults.MustParse("error=boom")); !errors.Is(err, errStale) {
		t.Errorf("SetFaults through another fleet's control port: %v, want errStale", err)
	}
	if _, err := n.Calls(ctx); !errors.Is(err, errStale) {
		t.Errorf("Calls through another fleet's control port: %v, want errStale", err)
	}
	plan := func() string {
		t.Helper()
		c, err := driver.DialControl(ctx, ctl)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		h, err := c.Health(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return h.Plan
	}
	if got := plan(); got != "" {
		t.Errorf("the other fleet's server got faults %v", got)
	}

	srv = server2("mine")
	ctl = srv.ControlAddrs()[0]
	n.ctlAddr = ctl
	if err := (healthy{n: n}).check(ctx, ctl); err != nil {
		t.Errorf("health check of the node's own server: %v", err)
	}
	wrongIndex := &Node{cl: &cluster{id: "mine"}, index: 3, ctlAddr: ctl, fleetID: "mine"}
	if err := (healthy{n: wrongIndex}).check(ctx, ctl); !errors.Is(err, errStale) {
		t.Errorf("health check of server 2 as server 3: %v, want errStale", err)
	}
	if err := n.SetFaults(ctx, faults.MustParse("error=boom")); err != nil {
		t.Errorf("SetFaults: %v", err)
	}
	if got := plan(); got != "error=boom" {
		t.Errorf("faults %q, want error=boom", got)
	}
}
