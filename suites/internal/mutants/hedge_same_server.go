package mutants

import (
	"context"
	"sync"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// hedgeSameServer is a hedged fan-out (a backup after 100ms, at most one
// per call, the first reply wins) whose backup goes to the address of the
// call it backs up: the straggler gets the request twice, and a server
// that stalls stalls both.
//
// A hedge is a second copy "to multiple replicas", "a secondary request"
// to another server (Dean and Barroso, "The Tail at Scale", CACM 2013);
// grpc/grpc-java#7513 asks whether a gRPC retry or hedge "will be send to
// the same address" and is told it picks an address independently of the
// earlier attempt, so it may; XiaoMi/pegasus-java-client#93 and
// apache/incubator-pegasus#251 send backups to the secondaries only.
func hedgeSameServer(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args) ([]suites.Result, error) {
	out := make([]suites.Result, len(addrs))
	var wg sync.WaitGroup
	for i, addr := range addrs {
		wg.Go(func() {
			start := time.Now()
			reply, err := hedgeSameServerCall(ctx, timeout, addr, args)
			out[i] = suites.Result{Addr: addr, Reply: reply, Err: err, Latency: time.Since(start)}
		})
	}
	wg.Wait()
	return out, joinErrors(out)
}

// hedgeSameServerCall is the hedged call for addr.
func hedgeSameServerCall(ctx context.Context, timeout time.Duration, addr string, args fleet.Args) (fleet.Reply, error) {
	const delay, maxBackups = 100 * time.Millisecond, 1 // as claimed: suites.Hedged(100*time.Millisecond, 1)
	type attempt struct {
		reply fleet.Reply
		err   error
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // lets the losers go
	done := make(chan attempt, 1+maxBackups)
	try := func(addr string) {
		go func() {
			reply, err := call(ctx, timeout, addr, args)
			done <- attempt{reply, err}
		}()
	}
	try(addr)
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
			if backups < maxBackups {
				try(addr) // BUG: the backup goes to the same server, not to another replica
				pending, backups = pending+1, backups+1
				hedge.Reset(delay)
			}
		}
	}
}
