package mutants

import (
	"context"
	"sync"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// addInGoroutine lets each worker add itself to the WaitGroup: wg.Wait
// may run before any worker has added, and return at once. (go vet
// reports wg.Add inside a go func literal; a worker function hides it.)
func addInGoroutine(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args, report suites.ReportFunc) {
	var wg sync.WaitGroup
	for _, addr := range addrs {
		go worker(ctx, timeout, &wg, addr, args, report)
	}
	wg.Wait()
}

func worker(ctx context.Context, timeout time.Duration, wg *sync.WaitGroup, addr string, args fleet.Args, report suites.ReportFunc) {
	wg.Add(1) // BUG: must happen before the go statement
	defer wg.Done()
	reply, err := call(ctx, timeout, addr, args)
	report(addr, reply, err)
}
