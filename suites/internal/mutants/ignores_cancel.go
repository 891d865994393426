package mutants

import (
	"context"
	"sync"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// ignoresCancel makes its calls under context.Background: they keep their
// timeout but never see the fan-out's ctx end.
func ignoresCancel(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args, report suites.ReportFunc) {
	var wg sync.WaitGroup
	for _, addr := range addrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reply, err := call(context.Background(), timeout, addr, args) // BUG: should be ctx
			report(addr, reply, err)
		}()
	}
	wg.Wait()
}
