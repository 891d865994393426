package experiment_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/rpc"
	"sync"

	"github.com/rpcfleet/rpcfleet/experiment"
	"github.com/rpcfleet/rpcfleet/fleet"
)

// myFanOut stands for the fan-out under test: it asks every server for a
// greeting, one goroutine per server joined by a WaitGroup, and returns
// the replies by index and the failed calls' errors, joined.
func myFanOut(ctx context.Context, addrs []string, name string) ([]string, error) {
	replies := make([]string, len(addrs))
	errs := make([]error, len(addrs))
	var wg sync.WaitGroup
	for i, addr := range addrs {
		wg.Go(func() {
			var d net.Dialer
			conn, err := d.DialContext(ctx, "tcp", addr)
			if err != nil {
				errs[i] = err
				return
			}
			c := rpc.NewClient(conn)
			defer c.Close()
			var r fleet.Reply
			call := c.Go("Service.Method", fleet.Args{Name: name}, &r, make(chan *rpc.Call, 1))
			select {
			case <-ctx.Done():
				errs[i] = ctx.Err()
			case <-call.Done:
				replies[i], errs[i] = r.Message, call.Error
			}
		})
	}
	wg.Wait()
	return replies, errors.Join(errs...)
}

// A fan-out of your own beside the reference caller's hedging, in one run
// and one report: the tail-at-scale faults, a few rounds.
func ExampleRun() {
	sc, err := experiment.Parse("mine.yaml", []byte(`
name: mine-vs-hedging
servers: 10
rounds: 20
inflight: 2
timeout: 5s
slow: 50ms
faults: delay=100ms,p=0.01;delay=1ms
strategies:
  - name: hedged
    hedge: {quantile: 0.97, max: 1}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	mine := func(ctx context.Context, addrs []string) error {
		_, err := myFanOut(ctx, addrs, "experiment") // your code
		return err
	}
	rep, err := experiment.Run(context.Background(), sc, nil, experiment.WithFanOut("mine", mine))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range rep.Results {
		fmt.Printf("%s: %d of %d fan-outs succeeded\n", r.Strategy, r.Succeeded, r.Rounds)
	}
	// rep.Write(os.Stdout, "table") prints the percentiles, slow and
	// extra calls, and errors by kind; rep.Plot("cdf.png") the CDFs.

	// Output:
	// hedged: 20 of 20 fan-outs succeeded
	// mine: 20 of 20 fan-outs succeeded
}
