package mutants

import (
	"context"
	"errors"
	"net/rpc"
	"sync"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// errorSwallowed counts an error reply as a success, "the server
// answered": the error is lost and an empty reply passes for a result.
func errorSwallowed(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args, report suites.ReportFunc) {
	var wg sync.WaitGroup
	for _, addr := range addrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reply, err := call(ctx, timeout, addr, args)
			if errors.As(err, new(rpc.ServerError)) {
				err = nil // BUG: an error reply is a failed call
			}
			report(addr, reply, err)
		}()
	}
	wg.Wait()
}
