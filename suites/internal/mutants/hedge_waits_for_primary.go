package mutants

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// hedgeWaitsForPrimary is a hedged fan-out (a backup to another replica
// after 100ms, at most one per call) that takes the first reply as the
// call's outcome but still waits for every attempt to end before it
// returns: the backup's reply is in, and the fan-out sits behind the
// straggler it hedged against, which is no faster than not hedging.
//
// "The client cancels remaining outstanding requests once the first
// result is received" (Dean and Barroso, "The Tail at Scale", CACM 2013);
// gRPC's hedging guide (grpc/grpc.io#1199) likewise "cancels any
// outstanding requests and forwards the response". Envoy's first hedging
// (envoyproxy/envoy#6228; its docs quoted in cloudnativeto/envoy#130)
// issued the retry "without canceling the initial timed-out request and a
// late response will be awaited".
func hedgeWaitsForPrimary(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args) ([]suites.Result, error) {
	out := make([]suites.Result, len(addrs))
	var wg sync.WaitGroup
	for i, addr := range addrs {
		wg.Go(func() {
			start := time.Now()
			reply, err := hedgeWaitsForPrimaryCall(ctx, timeout, addrs, i, args)
			out[i] = suites.Result{Addr: addr, Reply: reply, Err: err, Latency: time.Since(start)}
		})
	}
	wg.Wait()
	return out, joinErrors(out)
}

// hedgeWaitsForPrimaryCall is the hedged call for addrs[i]: its reply may
// be another replica's.
func hedgeWaitsForPrimaryCall(ctx context.Context, timeout time.Duration, addrs []string, i int, args fleet.Args) (fleet.Reply, error) {
	const delay, maxBackups = 100 * time.Millisecond, 1 // as claimed: suites.Hedged(100*time.Millisecond, 1)
	type attempt struct {
		reply fleet.Reply
		err   error
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
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
	hedge := time.NewTimer(delay)
	defer hedge.Stop()
	var first *attempt
	for {
		select {
		case a := <-done:
			pending--
			if a.err == nil && first == nil {
				first = &a
			}
			if pending > 0 {
				continue // BUG: the first reply is kept, but the other attempts are waited for, not cancelled
			}
			if first != nil {
				return first.reply, nil
			}
			return a.reply, a.err
		case <-hedge.C:
			if first != nil || backups == maxBackups {
				continue
			}
			for j := 1; j < len(addrs); j++ {
				if next := addrs[(i+j)%len(addrs)]; !slices.Contains(tried, next) {
					tried = append(tried, next)
					try(next)
					pending, backups = pending+1, backups+1
					hedge.Reset(delay)
					break
				}
			}
		}
	}
}
