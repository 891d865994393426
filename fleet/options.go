package fleet

import "github.com/rpcfleet/rpcfleet/faults"

// Option configures Start.
type Option func(*config)

type config struct {
	servers  int
	basePort int
	seed     uint64
	plan     faults.Plan
}

func defaults() config {
	return config{servers: 3, seed: 1}
}

// WithServers sets how many servers to start (default 3).
func WithServers(n int) Option { return func(c *config) { c.servers = n } }

// WithBasePort makes server i listen on 127.0.0.1:port+i instead of an
// ephemeral port.
func WithBasePort(port int) Option { return func(c *config) { c.basePort = port } }

// WithSeed seeds every fault decision (default 1). Server i draws from a PRNG
// seeded with (seed, i), so a run can be replayed; pass GinkgoRandomSeed()
// to tie a fleet to a Ginkgo run's --seed.
func WithSeed(seed uint64) Option { return func(c *config) { c.seed = seed } }

// WithFaults sets the fault plan every server starts with.
func WithFaults(p faults.Plan) Option { return func(c *config) { c.plan = p } }
