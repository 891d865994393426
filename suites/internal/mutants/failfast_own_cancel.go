package mutants

import (
	"context"
	"sync"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// failFastOwnCancel cancels the other calls at the first failure, as it
// should, but then reports its context's error: the context.Canceled of
// its own cancel, not the failure that caused it. The CockroachDB bug of
// dominikh/go-tools#155 (cockroachdb/cockroach#17453: returning
// gCtx.Err() of an errgroup.WithContext instead of the error that
// cancelled it) and the "unhelpful context canceled" of golang/go#59355.
func failFastOwnCancel(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args) ([]suites.Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := make([]suites.Result, len(addrs))
	var wg sync.WaitGroup
	for i, addr := range addrs {
		wg.Go(func() {
			out[i] = callA(ctx, timeout, addr, args)
			if out[i].Err != nil {
				cancel()
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return out, err // BUG: the Canceled of its own cancel, not the cause: out[i].Err of the first failure
	}
	return out, nil
}
