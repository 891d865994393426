package fleet_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rpcfleet/rpcfleet/caller"
	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
)

// A fleet on the in-memory transport runs inside a testing/synctest
// bubble, and so does the reference caller dialling through the fleet's
// Dial: a fan-out to a server delayed 20s and one that hangs until the
// caller's 30s timeout takes exactly 30s of virtual time, and next to no
// time on the wall clock.
func TestMemoryFleetRunsInVirtualTime(t *testing.T) {
	wall := time.Now()
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		f, err := fleet.Start(ctx, fleet.WithServers(5), fleet.WithMemory(),
			fleet.WithFaults(faults.MustParse("delay=20s,servers=1;hang,servers=3")))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Stop(context.Background())
		c := caller.New(caller.WithDialer(f.Dial), caller.WithTimeout(30*time.Second))
		defer c.Close()

		start := time.Now()
		results, err := caller.FanOut[fleet.Args, fleet.Reply](ctx, c, f.Addrs(), "Service.Method", fleet.Args{Name: "Sync"})
		if took := time.Since(start); took != 30*time.Second {
			t.Errorf("the fan-out took %v of virtual time, want exactly the 30s timeout", took)
		}
		var te *caller.TimeoutError
		if !errors.As(err, &te) || !errors.As(results[3].Err, &te) {
			t.Errorf("fan-out error %v, server 3's %v: want server 3's timeout", err, results[3].Err)
		}
		for _, i := range []int{0, 1, 2, 4} {
			if results[i].Err != nil {
				t.Errorf("server %d: %v", i, results[i].Err)
			}
		}
		calls, err := f.ServerCalls(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(calls) != 1 || calls[0].Replied.Sub(calls[0].Received) != 20*time.Second {
			t.Errorf("server 1's journal %+v: want one call answered exactly 20s after it came", calls)
		}
	})
	t.Logf("30s of virtual time in %v of wall time", time.Since(wall))
}
