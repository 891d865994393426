package container_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gleak"
	"github.com/onsi/gomega/types"

	"github.com/rpcfleet/rpcfleet/caller"
	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/fleet/container"
	"github.com/rpcfleet/rpcfleet/fleet/driver"
)

// image is built once per run, by the first parallel process.
const image = "rpcfleet:dev"

// kvImage is the example user's server main, examples/kv/server, as an
// image: built once per run beside image, and kept as image is.
const (
	kvImage   = "rpcfleet-kv:dev"
	kvPackage = "github.com/rpcfleet/rpcfleet/examples/kv/server"
)

func TestContainer(t *testing.T) {
	// Ryuk's image cannot be pulled offline; the backend cleans up itself.
	t.Setenv(container.RyukEnv, "true")
	RegisterFailHandler(Fail)
	RunSpecs(t, "rpcfleet container suite")
}

// Without a Docker engine the whole suite skips with one message, unless
// CI=true, where that is a failure. Otherwise the first process removes
// leftovers of earlier runs and builds the images for every process.
var _ = SynchronizedBeforeSuite(func(ctx SpecContext) {
	if err := container.Available(ctx); err != nil {
		if os.Getenv("CI") == "true" {
			Fail(fmt.Sprintf("CI=true but no Docker engine answers: %v", err))
		}
		AddReportEntry("container suite skipped", ReportEntryVisibilityAlways) // shows the reason without -v
		Skip(fmt.Sprintf("no Docker engine answers (%v); with CI=true this fails", err))
	}
	Expect(container.Sweep(ctx)).To(Succeed())
	// The two images at once: each is a go build and a docker build, and
	// the suite's other process waits for both.
	var wg sync.WaitGroup
	var kvErr error
	wg.Go(func() { kvErr = container.BuildPackage(ctx, kvPackage, kvImage) })
	err := container.Build(ctx, "../../docker/Dockerfile", image)
	wg.Wait()
	Expect(errors.Join(err, kvErr)).To(Succeed())
}, func() {}, NodeTimeout(5*time.Minute))

// Every process closes its pool and checks that it left no container or
// network behind.
var _ = SynchronizedAfterSuite(func(ctx SpecContext) {
	if container.Available(ctx) == nil {
		stats := fmt.Sprintf("%+v; graceful kills: %+v", pool.Stats(), gracefulPool.Stats())
		Expect(errors.Join(pool.Close(ctx), gracefulPool.Close(ctx))).To(Succeed())
		AddReportEntry("container pools", stats)
		Expect(container.Owned(ctx)).To(BeEmpty(), "containers and networks left behind")
	}
}, func(ctx SpecContext) {
	if container.Available(ctx) == nil {
		Expect(container.Sweep(ctx)).To(Succeed())
	}
}, NodeTimeout(time.Minute))

// Every spec must leave no goroutine behind once its cleanups have run.
var _ = BeforeEach(func() {
	baseline := gleak.Goroutines()
	DeferCleanup(func() {
		Eventually(gleak.Goroutines).WithTimeout(5 * time.Second).ShouldNot(gleak.HaveLeaked(baseline))
	})
})

// starter starts a fleet of n servers on one backend for the current spec.
type starter func(ctx context.Context, n int, opts ...fleet.Option) *fleet.Fleet

// on returns a starter for backend b: fleets seeded from Ginkgo's random
// seed, stopped when the spec ends.
func on(b driver.Backend) starter {
	return func(ctx context.Context, n int, opts ...fleet.Option) *fleet.Fleet {
		GinkgoHelper()
		opts = append([]fleet.Option{fleet.WithServers(n), fleet.WithSeed(uint64(GinkgoRandomSeed())), fleet.WithBackend(b)}, opts...)
		f, err := fleet.Start(ctx, opts...)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) {
			Expect(f.Stop(ctx)).To(Succeed())
		}, NodeTimeout(time.Minute))
		return f
	}
}

// pool is this process's pool of containers of the image built for this
// run (each Ginkgo process is a process of its own): a spec's fleet runs
// on containers that earlier specs' fleets left, renewed, and starts new
// ones only where there are none. The suite closes it when it ends.
var pool = container.NewPool(container.New(image))

// gracefulPool is the pool of the specs whose Kill is graceful (SIGTERM,
// then SIGKILL).
var gracefulPool = container.NewPool(container.New(image, container.WithGracefulKill(5*time.Second)))

// containers is the Docker backend of most specs: the process's pool.
// Specs about creating and removing containers use container.New.
func containers() driver.Backend { return pool }

// newCaller returns a reference caller closed when the spec ends.
func newCaller(opts ...caller.Option) *caller.Caller {
	GinkgoHelper()
	c := caller.New(opts...)
	DeferCleanup(c.Close)
	return c
}

// fanOut sends Service.Method to every address.
func fanOut(ctx context.Context, c *caller.Caller, addrs []string) ([]caller.Result[fleet.Reply], error) {
	return caller.FanOut[fleet.Args, fleet.Reply](ctx, c, addrs, "Service.Method", fleet.Args{Name: "Alice"})
}

// fromServer matches a reply message of server i, on any backend (a server
// in a container names its in-container address).
func fromServer(i int) types.GomegaMatcher {
	return HavePrefix(fmt.Sprintf("Hello, Alice! (server %d at ", i))
}

// owned returns the containers and networks this process owns (see
// container.Owned), sorted: between specs, those of its pool.
func owned(ctx context.Context) []string {
	GinkgoHelper()
	ids, err := container.Owned(ctx)
	Expect(err).NotTo(HaveOccurred())
	slices.Sort(ids)
	return ids
}
