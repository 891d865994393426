package container_test

import (
	"context"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/fleet/container"
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
