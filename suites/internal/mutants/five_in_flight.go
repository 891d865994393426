package mutants

import (
	"context"
	"sync"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// fiveInFlight bounds its goroutines with a semaphore of five: results are
// right and it finishes, but n servers delayed d take n/5·d, which a
// loaded machine's timing bound alone can let pass.
func fiveInFlight(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args, report suites.ReportFunc) {
	sem := make(chan struct{}, 5) // BUG: a fan-out calls every server at once
	var wg sync.WaitGroup
	for _, addr := range addrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			reply, err := call(ctx, timeout, addr, args)
			report(addr, reply, err)
		}()
	}
	wg.Wait()
}
