package fleet_test

import (
	"context"
	"fmt"
	"net/rpc"
	"slices"
	"strings"

	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
)

// A fleet of three servers on loopback, one of them replying with an
// error, called the way the seed article's client calls them; then the
// journal says what each server saw.
func ExampleStart() {
	ctx := context.Background()
	f, err := fleet.Start(ctx, fleet.WithServers(3), fleet.WithFaults(faults.MustParse("error=disk full,servers=1")))
	if err != nil {
		panic(err)
	}
	defer f.Stop(ctx) // returns once every server, goroutine and connection is gone

	for _, addr := range f.Addrs() {
		c, err := rpc.Dial("tcp", addr)
		if err != nil {
			panic(err)
		}
		var reply fleet.Reply
		err = c.Call("Service.Method", fleet.Args{Name: "Ann"}, &reply)
		c.Close()
		greeting, _, _ := strings.Cut(reply.Message, " at ") // the rest is the ephemeral address
		fmt.Printf("reply %q, error %v\n", greeting, err)
	}
	calls, err := f.Calls(ctx)
	if err != nil {
		panic(err)
	}
	slices.SortFunc(calls, func(a, b fleet.Call) int { return a.Server - b.Server })
	for _, c := range calls {
		fmt.Printf("server %d: %s %v fault=%q\n", c.Server, c.Method, c.Outcome, c.Fault)
	}
	// Output:
	// reply "Hello, Ann! (server 0", error <nil>
	// reply "", error disk full
	// reply "Hello, Ann! (server 2", error <nil>
	// server 0: Service.Method ok fault=""
	// server 1: Service.Method error fault="error=\"disk full\""
	// server 2: Service.Method ok fault=""
}
