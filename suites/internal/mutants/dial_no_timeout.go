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

// dialNoTimeout bounds each call by the timeout and ctx, but dials with
// net.Dial: a server that never completes the handshake holds the
// fan-out for as long as the kernel retries (minutes).
func dialNoTimeout(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args, report suites.ReportFunc) {
	var wg sync.WaitGroup
	for _, addr := range addrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := net.Dial("tcp", addr) // BUG: no timeout, no ctx
			if err != nil {
				report(addr, fleet.Reply{}, err)
				return
			}
			client := rpc.NewClient(conn)
			defer client.Close()
			ctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			var reply fleet.Reply
			c := client.Go("Service.Method", args, &reply, make(chan *rpc.Call, 1))
			select {
			case <-c.Done:
				report(addr, reply, c.Error)
			case <-ctx.Done():
				report(addr, fleet.Reply{}, ctx.Err())
			}
		}()
	}
	wg.Wait()
}
