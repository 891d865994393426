package fleet_test

import (
	"context"
	"fmt"
	"net/rpc"
	"strings"
	"testing"
	"time"

	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/fleet/driver"
)

// Control.Renew makes a server that a fleet has used a new one: what it
// decides, journals, serves and reports is that of a server started with
// the renewal's seed, fleet size, fleet id and plan; nothing of its
// earlier life (connections, calls, counts, the PRNG's position, its
// receivers' state, a crash) is left.
func TestControlRenew(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	plan := faults.MustParse("error=flaky,p=0.5;delay=1ms,jitter=1ms,p=0.5;error=picked,servers=50%,first=3")
	const calls = 40
	// decisions makes calls on server 1 of f and returns what its journal
	// says was decided for each.
	decisions := func(f *fleet.Fleet, cc *driver.ControlClient) []string {
		t.Helper()
		for range calls {
			call(f.Addrs()[1], "x") // error replies expected
		}
		got, err := cc.Journal(ctx)
		if err != nil {
			t.Fatal(err)
		}
		out := make([]string, len(got))
		for i, c := range got {
			out[i] = fmt.Sprintf("n=%d rule=%d fault=%s delayrule=%d delay=%v outcome=%v", c.N, c.Rule, c.Fault, c.DelayRule, c.Delay, c.Outcome)
		}
		return out
	}
	control := func(f *fleet.Fleet, i int) *driver.ControlClient {
		t.Helper()
		cc, err := driver.DialControl(ctx, f.ControlAddrs()[i])
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cc.Close() })
		return cc
	}

	fresh := start(t, fleet.WithServers(3), fleet.WithControl(0), fleet.WithSeed(7), fleet.WithFaults(plan), fleet.WithService("KV", newKV))
	want := decisions(fresh, control(fresh, 1))

	used := start(t, fleet.WithServers(2), fleet.WithControl(0), fleet.WithSeed(1), fleet.WithFleetID("a"),
		fleet.WithService("KV", newKV), fleet.WithFaults(faults.MustParse("error=old,p=0.3")))
	cc := control(used, 1)
	kept, err := rpc.Dial("tcp", used.Addrs()[1])
	if err != nil {
		t.Fatal(err)
	}
	defer kept.Close()
	if err := kept.Call("KV.Put", PutArgs{Key: "k", Value: "v"}, &struct{}{}); err != nil {
		t.Fatal(err)
	}
	for range 7 {
		call(used.Addrs()[1], "x")
	}

	// First without faults, to read the KV store unhindered.
	if err := cc.Renew(ctx, driver.Renewal{Seed: 7, FleetSize: 3, FleetID: "b"}); err != nil {
		t.Fatal(err)
	}
	if err := kept.Call("KV.Get", GetArgs{Key: "k"}, &GetReply{}); err == nil {
		t.Error("a connection of the earlier life still serves after Renew")
	}
	if n := used.Server(1).OpenConns(); n != 0 {
		t.Errorf("%d connections open after Renew, want 0", n)
	}
	c, err := rpc.Dial("tcp", used.Addrs()[1])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Call("KV.Get", GetArgs{Key: "k"}, &GetReply{}); err == nil || !strings.Contains(err.Error(), `no key "k"`) {
		t.Errorf("KV.Get of a key put before Renew: %v, want no such key (a new receiver)", err)
	}
	renewal := driver.Renewal{Seed: 7, FleetSize: 3, FleetID: "b", Faults: plan}
	if err := cc.Renew(ctx, renewal); err != nil {
		t.Fatal(err)
	}
	h, err := cc.Health(ctx)
	if err != nil || !h.Up || h.Index != 1 || h.Calls != 0 || h.FleetID != "b" || h.Plan != plan.String() {
		t.Fatalf("Health() after Renew = %+v, %v; want up, index 1, no calls, fleet id b, plan %q", h, err, plan)
	}
	if calls, _ := cc.Journal(ctx); len(calls) != 0 {
		t.Fatalf("journal after Renew: %+v", calls)
	}
	got := decisions(used, cc)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("a renewed server decided\n%s\nwant those of a new one\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// A bad plan is refused and changes nothing.
	err = cc.Renew(ctx, driver.Renewal{Seed: 1, FleetID: "c", Faults: faults.Plan{Rules: []faults.Rule{{Fault: faults.Delay{D: -time.Second}}}}})
	if err == nil || !strings.Contains(err.Error(), `"-1s"`) {
		t.Errorf("Renew with a negative delay: %v", err)
	}
	if h, _ := cc.Health(ctx); h.FleetID != "b" || h.Calls != calls {
		t.Errorf("Health() after a refused Renew = %+v, want fleet id b and %d calls", h, calls)
	}

	// A server a crash fault took down comes back up.
	cc0 := control(used, 0)
	if err := cc0.SetFaults(ctx, faults.MustParse("crash")); err != nil {
		t.Fatal(err)
	}
	call(used.Addrs()[0], "x")
	if h, _ := cc0.Health(ctx); h.Up {
		t.Fatalf("Health() after a crash = %+v, want down", h)
	}
	if err := cc0.Renew(ctx, driver.Renewal{Seed: 7, FleetSize: 3, FleetID: "b"}); err != nil {
		t.Fatal(err)
	}
	if msg, err := call(used.Addrs()[0], "x"); err != nil || !strings.HasPrefix(msg, "Hello, x! (server 0 at ") {
		t.Errorf("call after renewing a crashed server = %q, %v", msg, err)
	}
}
