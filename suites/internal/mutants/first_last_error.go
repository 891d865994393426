package mutants

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// firstLastError returns at the first success, but when every call failed
// its error is the last failure's alone: the causes of the others, often
// the telling ones, are dropped. The bug fixed by libp2p/rust-libp2p#5899
// ("only the last error is returned, while earlier errors are logged and
// lost", when a dial tries every resolved address) and discussed for Go's
// own dialer in golang/go#18183 (net: Dial should not conceal effective
// errors).
func firstLastError(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args) ([]suites.Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n := len(addrs)
	results := make(chan slotA, n)
	for i, addr := range addrs {
		go func() { results <- slotA{i, callA(ctx, timeout, addr, args)} }()
	}
	out, done := make([]suites.Result, n), make([]bool, n)
	ok, failed := 0, 0
	lastErr := errors.New("no address to call")
	for ok < 1 && failed < n {
		r := <-results
		out[r.i], done[r.i] = r.o, true
		if r.o.Err == nil {
			ok++
		} else {
			failed++
			lastErr = fmt.Errorf("%s: %w", r.o.Addr, r.o.Err) // BUG: overwrites the causes before it
		}
	}
	letGoA(addrs, out, done)
	if ok == 0 {
		return out, fmt.Errorf("every call of %d failed, the last: %w", n, lastErr)
	}
	return out, nil
}
