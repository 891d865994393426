package mutants

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// hedgeBeforeDelay is a hedged fan-out (a backup to another replica of
// the fan-out after 100ms, at most one per call, the first reply wins)
// whose delay is configured in milliseconds and converted with
// time.Duration(ms): 100 nanoseconds, so every call gets its backup at
// once, doubling the load hedging is meant to add only for stragglers.
//
// time.Duration(n) of a count of seconds or milliseconds, read as
// nanoseconds, is apecloud/kubeblocks#7956 (timeoutSeconds), cilium/cilium#5369
// (Ticker and Timeout fields holding seconds), incident-io/catalog-importer#163
// ("just returning 10 means ten nanoseconds") and appscode/g2#28 (a
// time.Duration documented as milliseconds); the durationcheck linter
// exists to catch it. Hedging's delay is the one knob that keeps its extra
// load to a few percent: Dean and Barroso, "The Tail at Scale" (CACM
// 2013), defer the backup "until the first request has been outstanding
// for more than the 95th-percentile expected latency".
func hedgeBeforeDelay(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args) ([]suites.Result, error) {
	out := make([]suites.Result, len(addrs))
	var wg sync.WaitGroup
	for i, addr := range addrs {
		wg.Go(func() {
			start := time.Now()
			reply, err := hedgeBeforeDelayCall(ctx, timeout, addrs, i, args)
			out[i] = suites.Result{Addr: addr, Reply: reply, Err: err, Latency: time.Since(start)}
		})
	}
	wg.Wait()
	return out, joinErrors(out)
}

// hedgeBeforeDelayCall is the hedged call for addrs[i]: its reply may be
// another replica's.
func hedgeBeforeDelayCall(ctx context.Context, timeout time.Duration, addrs []string, i int, args fleet.Args) (fleet.Reply, error) {
	const delayMs, maxBackups = 100, 1 // as claimed: suites.Hedged(100*time.Millisecond, 1)
	type attempt struct {
		reply fleet.Reply
		err   error
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // lets the losers go
	done := make(chan attempt, 1+maxBackups)
	tried := []string{addrs[i]}
	try := func(addr string) {
		go func() {
			reply, err := call(ctx, timeout, addr, args)
			done <- attempt{reply, err}
		}()
	}
	try(addrs[i])
	pending, backups := 1, 0
	hedge := time.NewTimer(time.Duration(delayMs)) // BUG: 100ns, not 100ms: time.Duration counts nanoseconds
	defer hedge.Stop()
	for {
		select {
		case a := <-done:
			pending--
			if a.err == nil || pending == 0 {
				return a.reply, a.err
			}
		case <-hedge.C:
			if backups == maxBackups {
				continue
			}
			for j := 1; j < len(addrs); j++ {
				if next := addrs[(i+j)%len(addrs)]; !slices.Contains(tried, next) {
					tried = append(tried, next)
					try(next)
					pending, backups = pending+1, backups+1
					hedge.Reset(time.Duration(delayMs))
					break
				}
			}
		}
	}
}
