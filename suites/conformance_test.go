package suites_test

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/rpcfleet/rpcfleet/caller"
	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// The reference caller claims every behaviour the suite knows. Its dials
// get the suite's timeout too: the default second is not always enough
// for a thousand of them at once on a busy two-core machine.
var _ = Describe("the reference caller", Label("reference"), func() {
	suites.Conformance(func(timeout time.Duration) suites.FanOuter {
		return suites.Reference(caller.New(caller.WithTimeout(timeout), caller.WithDialTimeout(timeout)))
	}, suites.TimesOut(), suites.HonoursCancel(), suites.KeepsInputOrder(), suites.AggregatesErrors())
})

// The same claims over net/rpc's other protocols: every fleet port speaks
// them all, and the reference caller dials each with WithProtocol. The
// large fan-out is smaller here: it checks the protocol, not the scale.
var _ = Describe("the reference caller over HTTP and JSON-RPC", Label("reference", "protocols"), func() {
	for _, p := range []caller.Protocol{caller.HTTP, caller.JSONRPC} {
		Describe(p.String(), func() {
			suites.Conformance(func(timeout time.Duration) suites.FanOuter {
				return suites.Reference(caller.New(caller.WithProtocol(p), caller.WithTimeout(timeout), caller.WithDialTimeout(timeout)))
			}, suites.TimesOut(), suites.HonoursCancel(), suites.KeepsInputOrder(), suites.AggregatesErrors(), suites.WithLargeFanOut(100))
		})
	}
})

// And over unix sockets: each spec's fleet listens in a directory of its
// own, and the reference caller dials any address holding a '/' on
// network "unix".
var _ = Describe("the reference caller over unix sockets", Label("reference", "protocols", "unix"), func() {
	suites.Conformance(func(timeout time.Duration) suites.FanOuter {
		return suites.Reference(caller.New(caller.WithTimeout(timeout), caller.WithDialTimeout(timeout)))
	}, suites.TimesOut(), suites.HonoursCancel(), suites.KeepsInputOrder(), suites.AggregatesErrors(), suites.WithLargeFanOut(100),
		suites.WithFleet(func(ctx context.Context, opts ...fleet.Option) (*fleet.Fleet, error) {
			return fleet.Start(ctx, append(opts, fleet.WithUnixSockets(GinkgoT().TempDir()))...)
		}))
})
