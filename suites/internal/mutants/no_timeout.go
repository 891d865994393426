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

// noTimeout bounds calls by ctx only: a hanging server holds the whole
// fan-out until ctx ends, which a caller with no deadline never does.
func noTimeout(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args, report suites.ReportFunc) {
	var wg sync.WaitGroup
	for _, addr := range addrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reply, err := callUnbounded(ctx, addr, args)
			report(addr, reply, err)
		}()
	}
	wg.Wait()
}

// callUnbounded is call without its context.WithTimeout.
func callUnbounded(ctx context.Context, addr string, args fleet.Args) (fleet.Reply, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr) // BUG: no timeout around the call
	if err != nil {
		return fleet.Reply{}, err
	}
	client := rpc.NewClient(conn)
	defer client.Close()
	var reply fleet.Reply
	c := client.Go("Service.Method", args, &reply, make(chan *rpc.Call, 1))
	select {
	case <-c.Done:
		return reply, c.Error
	case <-ctx.Done():
		return fleet.Reply{}, ctx.Err()
	}
}
