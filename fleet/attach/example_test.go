package attach_test

import (
	"context"
	"fmt"
	"net/rpc"

	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/fleet/attach"
)

// Attaching a fleet to servers something else runs: here three in-process
// servers with control ports stand in for rpcfleet serve processes under
// an orchestrator.
func ExampleNew() {
	ctx := context.Background()
	servers, err := fleet.Start(ctx, fleet.WithServers(3), fleet.WithControl(0), fleet.WithControlToken("s3cret"))
	if err != nil {
		panic(err)
	}
	defer servers.Stop(ctx)
	controlAddrs := servers.ControlAddrs()

	src := attach.Addrs(controlAddrs...) // or attach.DNS(nil, "rpcfleet.default.svc.cluster.local", 7001), attach.SRV(...)
	f, err := fleet.Start(ctx, fleet.WithServers(3), fleet.WithControlToken("s3cret"), fleet.WithBackend(attach.New(src)))
	if err != nil {
		panic(err)
	}
	defer f.Stop(ctx) // detaches: the servers serve on, with no faults
	if err := f.SetServerFaults(ctx, 1, faults.MustParse("error=down")); err != nil {
		panic(err)
	}

	for i, addr := range f.Addrs() {
		c, err := rpc.Dial("tcp", addr)
		if err != nil {
			panic(err)
		}
		var r fleet.Reply
		err = c.Call("Service.Method", fleet.Args{Name: "Ann"}, &r)
		c.Close()
		fmt.Printf("server %d: %v\n", i, err)
	}
	clk, _ := f.Clock(ctx, 1)
	fmt.Println("server 1's clock:", clk)
	// Output:
	// server 0: <nil>
	// server 1: down
	// server 2: <nil>
	// server 1's clock: +0s ±0s
}
