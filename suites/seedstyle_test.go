package suites_test

import (
	"context"
	"errors"
	"fmt"
	"net/rpc"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

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

// A seed-style fan-out with an error of its own (a quorum it did not
// reach): SeedStyle's FanOut returns it, beside the outcomes reported.
var _ = Describe("SeedStyle", Label("seed"), func() {
	It("keeps the fan-out's own error", func(ctx SpecContext) {
		errNoQuorum := errors.New("no quorum")
		impl := suites.SeedStyle(func(_ context.Context, addrs []string, _ fleet.Args, report suites.ReportFunc) error {
			report(addrs[0], fleet.Reply{Message: "hi"}, nil)
			return fmt.Errorf("vote: %w", errNoQuorum)
		})
		outcomes, err := impl.FanOut(ctx, []string{"a:1", "b:2"}, fleet.Args{Name: "Ann"})
		Expect(err).To(MatchError(errNoQuorum), "the fan-out's own error, through FanOut")
		Expect(outcomes[0].Err).NotTo(HaveOccurred(), "a's reported outcome")
		Expect(outcomes[1].Err).To(MatchError(suites.ErrNoReport), "b was never reported")
	})

	It("joins a report for an address not called to the fan-out's own error", func(ctx SpecContext) {
		errOwn := errors.New("own")
		impl := suites.SeedStyle(func(_ context.Context, _ []string, _ fleet.Args, report suites.ReportFunc) error {
			report("c:3", fleet.Reply{}, nil)
			return errOwn
		})
		_, err := impl.FanOut(ctx, []string{"a:1"}, fleet.Args{})
		Expect(err).To(MatchError(errOwn))
		Expect(err).To(MatchError(ContainSubstring("report for c:3")))
	})
})
