package suites_test

import (
	"context"
	"net/rpc"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// seedFanOut is the seed article's fan-out with its side effect made a
// parameter: a goroutine per server, a WaitGroup, a fresh rpc.Dial per
// call, no timeout, no ctx. It has no error of its own to return.
func seedFanOut(_ context.Context, servers []string, args fleet.Args, report suites.ReportFunc) error {
	var wg sync.WaitGroup
	for _, server := range servers {
		wg.Add(1)
		go func(server string) {
			defer wg.Done()
			client, err := rpc.Dial("tcp", server)
			if err != nil {
				report(server, fleet.Reply{}, err)
				return
			}
			defer client.Close()
			var reply fleet.Reply
			err = client.Call("Service.Method", args, &reply)
			report(server, reply, err)
		}(server)
	}
	wg.Wait()
	return nil
}

// The seed article's pattern claims nothing beyond the basics: the specs of
// timeouts and cancellation are not registered for it.
var _ = Describe("the seed article's caller", Label("seed"), func() {
	suites.Conformance(func(time.Duration) suites.FanOuter { return suites.SeedStyle(seedFanOut) })
})
