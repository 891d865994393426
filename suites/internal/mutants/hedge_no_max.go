package mutants

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// hedgeNoMax is a hedged fan-out (a backup to another replica after
// 100ms, the first reply wins) that never counts its backups: while no
// reply has come, it sends one more every delay, to every other replica
// in turn, where it claims at most one per call. Against a slow group it
// multiplies the load by the fan-out's width, the storm hedging's cap is
// there to prevent.
//
// gRPC's hedging policy caps the copies of a call, maxAttempts counting
// the original (gRFC A6, clarified in grpc/proposal#37: "up to
// maxHedgedRequests"; dotnet/AspNetCore.Docs#21621: "MaxAttempts
// represents the total number of all attempts, including the original");
// praxis-proxy/praxis#924 adds "a hedge budget that caps the fraction of
// hedged requests to prevent runaway amplification during degraded
// conditions".
func hedgeNoMax(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args) ([]suites.Result, error) {
	out := make([]suites.Result, len(addrs))
	var wg sync.WaitGroup
	for i, addr := range addrs {
		wg.Go(func() {
			start := time.Now()
			reply, err := hedgeNoMaxCall(ctx, timeout, addrs, i, args)
			out[i] = suites.Result{Addr: addr, Reply: reply, Err: err, Latency: time.Since(start)}
		})
	}
	wg.Wait()
	return out, joinErrors(out)
}

// hedgeNoMaxCall is the hedged call for addrs[i]: its reply may be
// another replica's.
func hedgeNoMaxCall(ctx context.Context, timeout time.Duration, addrs []string, i int, args fleet.Args) (fleet.Reply, error) {
	const delay = 100 * time.Millisecond // as claimed: suites.Hedged(100*time.Millisecond, 1)
	type attempt struct {
		reply fleet.Reply
		err   error
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // lets the losers go
	done := make(chan attempt, len(addrs))
	tried := []string{addrs[i]}
	try := func(addr string) {
		go func() {
			reply, err := call(ctx, timeout, addr, args)
			done <- attempt{reply, err}
		}()
	}
	try(addrs[i])
	pending := 1
	hedge := time.NewTimer(delay)
	defer hedge.Stop()
	for {
		select {
		case a := <-done:
			pending--
			if a.err == nil || pending == 0 {
				return a.reply, a.err
			}
		case <-hedge.C:
			// BUG: no count of backups against the claimed max of one: a backup every delay, to every replica
			for j := 1; j < len(addrs); j++ {
				if next := addrs[(i+j)%len(addrs)]; !slices.Contains(tried, next) {
					tried = append(tried, next)
					try(next)
					pending++
					hedge.Reset(delay)
					break
				}
			}
		}
	}
}
