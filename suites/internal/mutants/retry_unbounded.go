package mutants

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// retryUnbounded retries a failed call (an error reply, a refused dial, a
// dropped connection; not its own timeout, not ctx's end) after a short
// backoff, as its correct version does up to three calls per address,
// but with no bound: a replica that always fails is called again and
// again until ctx ends, and the fan-out with it never returns on its own.
//
// A default retry policy that retries forever is jurmous/etcd4j#31 ("if
// ETCD does not working, e.g. you use wrong url, this causes infinite
// loop"), jvoegele/external_service#43 ("a service configured without an
// explicit bound retries forever") and Countly/countly-sdk-web#2 ("On a
// failed req, countly will loop indefinitely"); retry budgets (Finagle's,
// finagle.github.io/blog/2016/02/08/retry-budgets; Envoy's,
// envoyproxy/envoy#9069) exist because such retries turn a failing
// replica into a retry storm.
func retryUnbounded(ctx context.Context, timeout time.Duration, addrs []string, args fleet.Args) ([]suites.Result, error) {
	const backoff = 10 * time.Millisecond
	out := make([]suites.Result, len(addrs))
	var wg sync.WaitGroup
	for i, addr := range addrs {
		wg.Go(func() {
			start := time.Now()
			var reply fleet.Reply
			var err error
			for { // BUG: no count of attempts: the claimed bound is three calls per address
				reply, err = call(ctx, timeout, addr, args)
				if err == nil || ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
					break
				}
				select {
				case <-time.After(backoff):
				case <-ctx.Done():
				}
			}
			out[i] = suites.Result{Addr: addr, Reply: reply, Err: err, Latency: time.Since(start)}
		})
	}
	wg.Wait()
	return out, joinErrors(out)
}
