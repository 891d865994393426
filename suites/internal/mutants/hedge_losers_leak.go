package mutants

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// hedgeLosersLeak is a hedged fan-out (a backup to another replica after
// 100ms, at most one per call, the first reply wins) whose attempts
// report on an unbuffered channel: once the winner is read, the call
// returns and cancels the others, which end and then block forever on
// their send. Every hedged call leaves its loser behind.
//
// authzed/spicedb#235 is this leak in SpiceDB's hedging datastore proxy
// (introduced with its request hedging, authzed/spicedb#187): a goroutine
// profile of 44,362 goroutines, 99.77% of them parked in runtime.chansend
// under hedgingProxy's closures.
func hedgeLosersLeak(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args) ([]suites.Result, error) {
	out := make([]suites.Result, len(addrs))
	var wg sync.WaitGroup
	for i, addr := range addrs {
		wg.Go(func() {
			start := time.Now()
			reply, err := hedgeLosersLeakCall(ctx, timeout, addrs, i, args)
			out[i] = suites.Result{Addr: addr, Reply: reply, Err: err, Latency: time.Since(start)}
		})
	}
	wg.Wait()
	return out, joinErrors(out)
}

// hedgeLosersLeakCall is the hedged call for addrs[i]: its reply may be
// another replica's.
func hedgeLosersLeakCall(ctx context.Context, timeout time.Duration, addrs []string, i int, args fleet.Args) (fleet.Reply, error) {
	const delay, maxBackups = 100 * time.Millisecond, 1 // as claimed: suites.Hedged(100*time.Millisecond, 1)
	type attempt struct {
		reply fleet.Reply
		err   error
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // lets the losers go

	done := make(chan attempt) // BUG: unbuffered: a loser's send, after the winner was read, blocks forever
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
					hedge.Reset(delay)
					break
				}
			}
		}
	}
}
