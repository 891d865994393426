package mutants

import (
	"context"
	"sync"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// serial waits inside the loop: every call waits for the one before, so n
// servers delayed d take n·d.
func serial(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args, report suites.ReportFunc) {
	var wg sync.WaitGroup
	for _, addr := range addrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reply, err := call(ctx, timeout, addr, args)
			report(addr, reply, err)
		}()
		wg.Wait() // BUG: belongs after the loop
	}
}
