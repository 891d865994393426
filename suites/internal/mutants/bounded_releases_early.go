package mutants

import (
	"context"
	"net"
	"net/rpc"
	"sync"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// boundedReleasesEarly keeps at most four calls in flight with a
// semaphore, but holds a slot only while it dials and sends: client.Go
// returns once the request is written, the slot is given back there, and
// the waits for the replies, the calls' real length, run unbounded. Every
// server holds a request at once.
//
// A concurrency limit released while the work it guards still runs is
// Netflix/Hystrix#1867 (the semaphore of maxConcurrentRequests "will be
// released after timeout" though run() is still executing) and the review
// of nperez0111/bookhive#196 ("The deadline releases the semaphore slot
// while the enrichment still runs ... Concurrent enrichments can then
// exceed 4"); golang/go#29889 is net/http's MaxConnsPerHost count
// decremented while a waiter takes the connection, two conns where one is
// allowed.
func boundedReleasesEarly(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args) ([]suites.Result, error) {
	const limit = 4 // as claimed: suites.Bounded(4)
	sem := make(chan struct{}, limit)
	out := make([]suites.Result, len(addrs))
	var wg sync.WaitGroup
	for i, addr := range addrs {
		wg.Go(func() {
			start := time.Now()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				out[i] = suites.Result{Addr: addr, Err: ctx.Err()}
				return
			}
			reply, err := boundedReleasesEarlyCall(ctx, timeout, addr, args, func() { <-sem })
			out[i] = suites.Result{Addr: addr, Reply: reply, Err: err, Latency: time.Since(start)}
		})
	}
	wg.Wait()
	return out, joinErrors(out)
}

// boundedReleasesEarlyCall is call, with release called once the call is
// sent (or could not be).
func boundedReleasesEarlyCall(ctx context.Context, timeout time.Duration, addr string, args fleet.Args, release func()) (fleet.Reply, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		release()
		return fleet.Reply{}, dialError(ctx, err)
	}
	client := rpc.NewClient(conn)
	defer client.Close()
	var reply fleet.Reply
	c := client.Go("Service.Method", args, &reply, make(chan *rpc.Call, 1))
	release() // BUG: the call is sent, not ended: its slot goes while the server still holds it
	select {
	case <-c.Done:
		return reply, c.Error
	case <-ctx.Done():
		return fleet.Reply{}, ctx.Err()
	}
}
