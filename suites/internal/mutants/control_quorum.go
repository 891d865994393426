package mutants

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// majority is the quorum of the hand-written quorum control: more than
// half of n, 1 of none (which no fan-out to no address reaches).
func majority(n int) int { return n/2 + 1 }

// quorum returns once a majority of the calls succeeded, with a nil
// error, and as soon as so many failed that a majority is out of reach,
// with an error joining the failures received, each naming its address.
// Either way the calls still running are cancelled as it returns, and
// their outcomes are those of calls let go.
func quorum(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args) ([]suites.Result, error) {
	n, need := len(addrs), majority(len(addrs))
	out := make([]suites.Result, n)
	got := make([]bool, n)
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := spawn(cctx, timeout, addrs, args)
	for succeeded, failed := 0, 0; ; {
		if failed > n-need {
			err := errors.Join(fmt.Errorf("quorum of %d of %d out of reach after %d failed", need, n, failed), joinErrors(out))
			letGo(ctx, addrs, out, got)
			return out, err
		}
		r := <-ch
		out[r.i], got[r.i] = r.r, true
		if r.r.Err != nil {
			failed++
			continue
		}
		if succeeded++; succeeded == need {
			letGo(ctx, addrs, out, got)
			return out, nil
		}
	}
}

// quorumControls are the hand-written quorum fan-outs.
func quorumControls() []Mutant {
	return []Mutant{
		{Name: "control-quorum", Shape: "Quorum(n/2+1)", Bug: "none: a goroutine per address, a buffered channel, return at a majority of successes or once it is out of reach, cancel on return",
			New: outcomes(quorum), Claims: append(fullClaims(), suites.Quorum(majority))},
	}
}
