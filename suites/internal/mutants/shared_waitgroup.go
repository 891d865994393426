package mutants

import (
	"context"
	"sync"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// inFlight is the seed article's WaitGroup, kept at package level as the
// article keeps it: every fan-out adds to it and waits on it.
var inFlight sync.WaitGroup

// sharedWaitGroup waits on one WaitGroup shared by every fan-out, so a
// quick fan-out waits for the calls of a slow one running beside it.
func sharedWaitGroup(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args, report suites.ReportFunc) {
	for _, addr := range addrs {
		inFlight.Add(1) // BUG: shared by every fan-out
		go func() {
			defer inFlight.Done()
			reply, err := call(ctx, timeout, addr, args)
			report(addr, reply, err)
		}()
	}
	inFlight.Wait()
}
