package mutants

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// indexed is one call's outcome sent back to the fan-out's goroutine,
// with the index of its address.
type indexed struct {
	i int
	r suites.Result
}

// errNotWaitedFor is the outcome of a call the fan-out returned without
// (it let it go), cancelled as the fan-out returned.
var errNotWaitedFor = fmt.Errorf("not waited for: %w", context.Canceled)

// letGo fills the outcomes not received (got[i] false) with the error of
// a call let go: ctx's error if ctx ended, else errNotWaitedFor.
func letGo(ctx context.Context, addrs []string, out []suites.Result, got []bool) {
	err := ctx.Err()
	if err == nil {
		err = errNotWaitedFor
	}
	for i, ok := range got {
		if !ok {
			out[i] = suites.Result{Addr: addrs[i], Err: err}
		}
	}
}

// spawn starts one goroutine per address, each making its call under ctx
// and sending its outcome on a channel with room for every outcome, so
// that no goroutine blocks once the fan-out stops receiving.
func spawn(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args) <-chan indexed {
	ch := make(chan indexed, len(addrs))
	for i, addr := range addrs {
		go func() {
			start := time.Now()
			reply, err := call(ctx, timeout, addr, args)
			ch <- indexed{i, suites.Result{Addr: addr, Reply: reply, Err: err, Latency: time.Since(start)}}
		}()
	}
	return ch
}

// errNoAddrs is the error of a first-success fan-out to no address: no
// call can succeed.
var errNoAddrs = errors.New("first success: no address to call")

// firstSuccess returns at the first successful call, with its reply at
// its address; the other calls are cancelled as it returns. A failure
// is counted and does not end it; when every call failed, its error
// joins every cause, each naming its address.
func firstSuccess(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args) ([]suites.Result, error) {
	out := make([]suites.Result, len(addrs))
	if len(addrs) == 0 {
		return out, errNoAddrs
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := spawn(cctx, timeout, addrs, args)
	got := make([]bool, len(addrs))
	for failed := 0; failed < len(addrs); {
		r := <-ch
		out[r.i], got[r.i] = r.r, true
		if r.r.Err == nil {
			letGo(ctx, addrs, out, got)
			return out, nil
		}
		failed++
	}
	return out, joinErrors(out)
}

// firstSuccessControls are the hand-written first-success fan-outs.
func firstSuccessControls() []Mutant {
	return []Mutant{
		{Name: "control-first-success", Shape: "FirstSuccess", Bug: "none: a goroutine per address, a buffered channel, failures counted, return at the first success, cancel on return",
			New: outcomes(firstSuccess), Claims: append(fullClaims(), suites.FirstSuccess())},
	}
}
