package mutants

import (
	"context"
	"sync"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// earlyWait "never waits forever": it gives up on wg.Wait after a fixed
// budget, returning before slow calls have ended.
func earlyWait(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args, report suites.ReportFunc) {
	var wg sync.WaitGroup
	for _, addr := range addrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reply, err := call(ctx, timeout, addr, args)
			report(addr, reply, err)
		}()
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(50 * time.Millisecond): // BUG: shorter than the calls may take
	}
}
