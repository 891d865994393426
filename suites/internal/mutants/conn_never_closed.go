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

// connNeverClosed dials a connection per call and never closes it: every
// fan-out leaves one open connection and one rpc.Client goroutine per
// server.
func connNeverClosed(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args, report suites.ReportFunc) {
	var wg sync.WaitGroup
	for _, addr := range addrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			var d net.Dialer
			conn, err := d.DialContext(ctx, "tcp", addr)
			if err != nil {
				report(addr, fleet.Reply{}, err)
				return
			}
			client := rpc.NewClient(conn) // BUG: never closed
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
