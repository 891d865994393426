package mutants

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// failFastOuterCtx fans out with errgroup.WithContext but makes its calls
// under the outer ctx, not the group's: the first failure cancels a
// context nobody uses, and Wait waits for the slowest call. Its error is
// the right one, late; the caller's own cancel still reaches every call.
// The misuse fixed in docker/compose#13480 ("call sites that were using
// errgroup.WithContext but discarding the derived context") and the one
// cosmos/relayer#612 names egCtx to avoid.
func failFastOuterCtx(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args) ([]suites.Result, error) {
	out := make([]suites.Result, len(addrs))
	g, _ := errgroup.WithContext(ctx)
	for i, addr := range addrs {
		g.Go(func() error {
			out[i] = callA(ctx, timeout, addr, args) // BUG: the outer ctx: the group's cancel at the first failure never reaches this call
			if out[i].Err != nil {
				return fmt.Errorf("%s: %w", addr, out[i].Err)
			}
			return nil
		})
	}
	return out, g.Wait()
}
