package mutants

import (
	"context"
	"sync"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// unlockedAppend appends to a slice shared by every goroutine without a
// lock: a data race that also loses outcomes.
func unlockedAppend(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args) ([]suites.Result, error) {
	var (
		out []suites.Result
		wg  sync.WaitGroup
	)
	for _, addr := range addrs {
		wg.Go(func() {
			start := time.Now()
			reply, err := call(ctx, timeout, addr, args)
			out = append(out, suites.Result{Addr: addr, Reply: reply, Err: err, Latency: time.Since(start)}) // BUG: no lock
		})
	}
	wg.Wait()
	return sortByInput(out, addrs), joinErrors(out)
}

// sortByInput puts outcomes back in input order, as this mutant's author
// knew to do.
func sortByInput(out []suites.Result, addrs []string) []suites.Result {
	pos := make(map[string]int, len(addrs))
	for i, a := range addrs {
		pos[a] = i
	}
	sorted := make([]suites.Result, 0, len(out))
	for i := range addrs {
		for _, o := range out {
			if pos[o.Addr] == i {
				sorted = append(sorted, o)
				break
			}
		}
	}
	return sorted
}
