package mutants

import (
	"context"
	"sync"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// missedDone calls wg.Done at the end of the happy path only: a failed
// call returns early without it, and wg.Wait never returns.
func missedDone(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args, report suites.ReportFunc) {
	var wg sync.WaitGroup
	for _, addr := range addrs {
		wg.Add(1)
		go func() {
			reply, err := call(ctx, timeout, addr, args)
			if err != nil {
				report(addr, fleet.Reply{}, err)
				return // BUG: no wg.Done on this path
			}
			report(addr, reply, nil)
			wg.Done()
		}()
	}
	wg.Wait()
}
