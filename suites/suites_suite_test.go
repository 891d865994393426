package suites_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gleak"

	"github.com/rpcfleet/rpcfleet/caller"
	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
)

func TestSuites(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "rpcfleet suites")
}

// Every spec must leave no goroutine behind once its cleanups (fleet Stop,
// caller Close) have run: this cleanup is registered first, so it runs last.
var _ = BeforeEach(func() {
	baseline := gleak.Goroutines()
	DeferCleanup(func() {
		Eventually(gleak.Goroutines).WithTimeout(5 * time.Second).ShouldNot(gleak.HaveLeaked(baseline))
	})
})

// startFleet starts n servers seeded from Ginkgo's random seed (replay a run
// with --seed) and stops them when the spec ends.
func startFleet(ctx context.Context, n int, opts ...fleet.Option) *fleet.Fleet {
	GinkgoHelper()
	opts = append([]fleet.Option{fleet.WithServers(n), fleet.WithSeed(uint64(GinkgoRandomSeed()))}, opts...)
	f, err := fleet.Start(ctx, opts...)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func(ctx SpecContext) {
		Expect(f.Stop(ctx)).To(Succeed())
	}, NodeTimeout(10*time.Second))
	return f
}

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

// setFaults gives server i the plan written as spec.
func setFaults(f *fleet.Fleet, i int, spec string) {
	GinkgoHelper()
	Expect(f.SetServerFaults(context.Background(), i, faults.MustParse(spec))).To(Succeed())
}
