package container_test

import (
	"context"
	"net/rpc"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/rpcfleet/rpcfleet/caller"
	"github.com/rpcfleet/rpcfleet/examples/kv/kv"
	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/fleet/container"
	"github.com/rpcfleet/rpcfleet/suites"
)

// readmeContainers is the README's container snippet, compiled; the specs
// of this suite run each of its steps.
func readmeContainers(ctx context.Context) {
	b := container.New("rpcfleet:dev") // an image built by `make image` or container.Build
	f, err := fleet.Start(ctx, fleet.WithServers(5), fleet.WithBackend(b))
	DeferCleanup(f.Stop) // removes every container and the fleet's network
	Expect(f.SetServerFaults(ctx, 2, faults.MustParse("delay=50ms"))).To(Succeed())
	Expect(f.Kill(ctx, 3)).To(Succeed())       // SIGKILL; its old address is refused until f.Restart(ctx, 3), on a new port
	Expect(f.Pause(ctx, 1)).To(Succeed())      // docker pause: connections open, nothing answers
	Expect(f.Disconnect(ctx, 4)).To(Succeed()) // off the fleet's network: refused until f.Reconnect
	calls, err := f.Calls(ctx)                 // the journals of every container, merged
	_, _ = calls, err
}

var _ = readmeContainers

// readmeOwnService is the README's "Your own service" container example,
// compiled; "Your own service on containers" runs each of its steps.
func readmeOwnService(ctx context.Context) {
	Expect(container.BuildPackage(ctx, "github.com/rpcfleet/rpcfleet/examples/kv/server", "rpcfleet-kv:dev")).To(Succeed()) // once per run: SynchronizedBeforeSuite
	f, err := fleet.Start(ctx, fleet.WithServers(3), fleet.WithBackend(container.New("rpcfleet-kv:dev")))
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(f.Stop) // removes every container and the fleet's network; the image stays
	Expect(f.SetFaults(ctx, faults.MustParse("error=kv down,method=KV.Get,servers=1"))).To(Succeed())

	c, err := rpc.Dial("tcp", f.Addrs()[1])
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(c.Close)
	var r kv.GetReply
	Expect(c.Call("KV.Get", kv.GetArgs{Key: "k"}, &r)).To(MatchError("kv down"))
	Expect(f.ServerCalls(ctx, 1)).To(ContainElement(HaveField("Method", "KV.Get")))
}

var _ = readmeOwnService

// readmePool is the README's pool snippet, compiled (its declarations are
// package-level in a suite; Go takes them in a function too). The suite's
// own pool (container_suite_test.go) and its reference specs
// (reference_test.go) run it.
func readmePool() {
	newFanOut := func(timeout time.Duration) suites.FanOuter {
		return suites.Reference(caller.New(caller.WithTimeout(timeout)))
	}
	var pool = container.NewPool(container.New("rpcfleet:dev")) // one per Ginkgo process; it starts nothing yet

	var _ = AfterSuite(func(ctx SpecContext) {
		Expect(pool.Close(ctx)).To(Succeed()) // removes every container it kept, and its network
	})

	var _ = Describe("my fan-out on containers", Label("container"), func() {
		suites.Conformance(newFanOut, suites.TimesOut(), suites.HonoursCancel(),
			suites.WithFleetOptions(fleet.WithBackend(pool)), suites.WithoutConnCount(), suites.WithSlack(3*time.Second))
	})
}

var _ = readmePool
