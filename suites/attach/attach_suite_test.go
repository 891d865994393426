package attach_test

import (
	"context"
	"os"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gleak"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/fleet/attach"
	"github.com/rpcfleet/rpcfleet/internal/supervise"
)

func TestAttach(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "rpcfleet attach suite")
}

const (
	// poolSize is the servers each parallel process runs: the most a
	// spec attaches (the 50-server ordering spec).
	poolSize = 50
	// token is the pool's control token: the specs attach with it, as
	// beyond loopback they must.
	token   = "attach-suite-token"
	fleetID = "attach-suite"
	// restartDelay is the pool's restart policy: a killed server's
	// process starts again this long after it exited.
	restartDelay = 300 * time.Millisecond
)

// pool is this process's rpcfleet serve processes, under a supervisor
// that restarts a killed one as an orchestrator's restart policy would.
var pool *supervise.Group

// The first process builds the binary once; every process runs its own
// pool, so parallel processes never steer each other's servers.
var _ = SynchronizedBeforeSuite(func(ctx SpecContext) []byte {
	dir, err := os.MkdirTemp("", "rpcfleet-attach-suite")
	Expect(err).NotTo(HaveOccurred())
	builtIn = dir
	bin, err := supervise.Build(ctx, dir)
	Expect(err).NotTo(HaveOccurred())
	return []byte(bin)
}, func(ctx SpecContext, bin []byte) {
	var err error
	pool, err = supervise.Start(ctx, string(bin), poolSize, restartDelay,
		"--fleet-id", fleetID, "--control-token", token, "--journal-limit", "0")
	Expect(err).NotTo(HaveOccurred())
}, NodeTimeout(3*time.Minute))

var _ = SynchronizedAfterSuite(func() {
	if pool != nil {
		pool.Stop()
	}
}, func() {
	if builtIn != "" {
		os.RemoveAll(builtIn)
	}
})

// builtIn is the directory the first process built the binary in.
var builtIn string

// Every spec must leave no goroutine behind once its cleanups have run.
var _ = BeforeEach(func() {
	baseline := gleak.Goroutines()
	DeferCleanup(func() {
		Eventually(gleak.Goroutines).WithTimeout(5 * time.Second).ShouldNot(gleak.HaveLeaked(baseline))
	})
})

// source finds the pool's servers where they are now: a restarted one
// has new ports.
func source() attach.Source {
	return attach.SourceFunc(func(context.Context) ([]attach.Endpoint, error) {
		var eps []attach.Endpoint
		for _, c := range pool.Controls() {
			if c != "" {
				eps = append(eps, attach.Endpoint{Control: c})
			}
		}
		return eps, nil
	})
}

// start attaches a fleet to the pool: fleet.Start's options say how many
// servers, the seed and the faults.
func start(ctx context.Context, opts ...fleet.Option) (*fleet.Fleet, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return fleet.Start(ctx, append([]fleet.Option{fleet.WithBackend(attach.New(source())),
		fleet.WithControlToken(token), fleet.WithFleetID(fleetID)}, opts...)...)
}
