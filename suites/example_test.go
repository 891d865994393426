package suites_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// A caller in the seed article's style, adapted to FanOuter and called
// once outside any suite. Inside a Ginkgo suite, hand the same adapter to
// suites.Conformance (see seedstyle_test.go).
func ExampleSeedStyle() {
	ctx := context.Background()
	f, err := fleet.Start(ctx, fleet.WithServers(3))
	if err != nil {
		panic(err)
	}
	defer f.Stop(ctx)
	if err := f.SetServerFaults(ctx, 1, faults.MustParse("error=boom")); err != nil {
		panic(err)
	}

	impl := suites.SeedStyle(seedFanOut)
	outcomes, _ := impl.FanOut(ctx, f.Addrs(), fleet.Args{Name: "Ann"})
	for i, o := range outcomes {
		if o.Err != nil {
			fmt.Printf("server %d: error: %v\n", i, o.Err)
			continue
		}
		greeting, _, _ := strings.Cut(o.Reply.Message, " (")
		fmt.Printf("server %d: %s\n", i, greeting)
	}
	// Output:
	// server 0: Hello, Ann!
	// server 1: error: boom
	// server 2: Hello, Ann!
}
