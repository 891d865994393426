package swarm_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gleak"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/fleet/attach"
	"github.com/rpcfleet/rpcfleet/fleet/container"
	"github.com/rpcfleet/rpcfleet/fleet/swarm"
)

func TestSwarm(t *testing.T) {
	t.Setenv(container.RyukEnv, "true") // container.Build needs no reaper either
	RegisterFailHandler(Fail)
	RunSpecs(t, "rpcfleet swarm suite")
}

const (
	// replicas is the stack's size: the most a spec attaches (the
	// 50-server ordering spec).
	replicas = 50
	token    = "swarm-suite-token"
)

// stack is the stack every spec attaches to: its name reaches every
// process, but the specs are Serial, so only one steers it at a time.
var stack *swarm.Stack

// leave undoes what the first process did to the engine: removes the
// stack and, if it made the engine a swarm, leaves the swarm and removes
// docker_gwbridge.
var leave func(context.Context) error

// The first process makes the engine a one-node swarm if it is not in
// one, builds the image and deploys docker/stack.yaml. Without a Docker
// engine the suite skips with one message, unless CI=true.
var _ = SynchronizedBeforeSuite(func(ctx SpecContext) []byte {
	if err := swarm.Available(ctx); err != nil {
		if os.Getenv("CI") == "true" {
			Fail(fmt.Sprintf("CI=true but no Docker engine answers: %v", err))
		}
		AddReportEntry("swarm suite skipped", ReportEntryVisibilityAlways)
		Skip(fmt.Sprintf("no Docker engine answers (%v); with CI=true this fails", err))
	}
	// An image of this tree under a tag of the suite's own: rpcfleet:dev
	// is shared with other suites on the engine, which may build it from
	// another tree while the stack restarts tasks.
	image = fmt.Sprintf("rpcfleet-swarm-suite:%d", os.Getpid())
	Expect(container.Build(ctx, "../../docker/Dockerfile", image)).To(Succeed())
	var err error
	leave, err = swarm.Init(ctx)
	Expect(err).NotTo(HaveOccurred())
	name := fmt.Sprintf("rpcfleet-suite-%d", os.Getpid())
	st, err := swarm.Deploy(ctx, name, swarm.Config{File: "../../docker/stack.yaml", Replicas: replicas, Token: token,
		Image: image, RestartDelay: 500 * time.Millisecond})
	Expect(err).NotTo(HaveOccurred())
	stack = st
	return []byte(name)
}, func(name []byte) {
	if stack == nil {
		stack = swarm.Attached(string(name))
	}
}, NodeTimeout(10*time.Minute))

// The first process removes the stack and leaves the engine as it found
// it, then checks that nothing of the suite is left.
var _ = SynchronizedAfterSuite(func() {}, func(ctx SpecContext) {
	if leave == nil {
		return
	}
	// Every step, whatever the one before did: the engine is shared.
	var rmErr error
	if stack != nil {
		rmErr = stack.Remove(ctx)
	}
	leaveErr := leave(ctx)
	imgErr := exec.CommandContext(ctx, "docker", "image", "rm", image).Run()
	Expect(rmErr).NotTo(HaveOccurred(), "removing the stack")
	Expect(leaveErr).NotTo(HaveOccurred(), "leaving the swarm")
	Expect(imgErr).NotTo(HaveOccurred(), "removing the suite's image %s", image)
}, NodeTimeout(5*time.Minute))

// image is the suite's own image, built by the first process.
var image string

// Every spec must leave no goroutine behind once its cleanups have run.
var _ = BeforeEach(func() {
	baseline := gleak.Goroutines()
	DeferCleanup(func() {
		Eventually(gleak.Goroutines).WithTimeout(5 * time.Second).ShouldNot(gleak.HaveLeaked(baseline))
	})
})

// start attaches a fleet to the stack's servers. Docker's port proxy
// retries a blackholed dial of one spec into the next (WithSettle).
func start(ctx context.Context, opts ...fleet.Option) (*fleet.Fleet, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return fleet.Start(ctx, append([]fleet.Option{fleet.WithBackend(attach.New(stack.Source(), attach.WithPoll(250*time.Millisecond), attach.WithSettle(16*time.Second))),
		fleet.WithControlToken(token), fleet.WithFleetID(stack.FleetID())}, opts...)...)
}
