package container

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	dcontainer "github.com/moby/moby/api/types/container"
	dnetwork "github.com/moby/moby/api/types/network"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
	"github.com/testcontainers/testcontainers-go/network"

	"github.com/rpcfleet/rpcfleet/fleet/driver"
)

// The ports `rpcfleet serve` (or a fleet/serve main) listens on inside
// every container.
const (
	dataPort    = "7000/tcp"
	controlPort = "7001/tcp"
)

// Labels on every container and network the backend creates.
const (
	LabelManaged = "rpcfleet.managed" // "true"
	labelFleet   = "rpcfleet.fleet"   // the fleet's random id
	labelIndex   = "rpcfleet.index"   // the server's index, on containers
)

// TokenEnv is the variable through which `rpcfleet serve` (and a
// fleet/serve main) takes its control token, as the backend passes it on.
const TokenEnv = "RPCFLEET_CONTROL_TOKEN"

// RyukEnv must be "true": the backend removes what it creates itself.
const RyukEnv = "TESTCONTAINERS_RYUK_DISABLED"

// Backend starts fleets as Docker containers of one image. It is safe for
// concurrent use and may start any number of fleets.
type Backend struct {
	image    string
	parallel int
	timeout  time.Duration
	grace    time.Duration // Kill: SIGTERM, then SIGKILL after grace; 0: SIGKILL at once
}

var _ driver.Backend = (*Backend)(nil)

// Option configures New.
type Option func(*Backend)

// WithParallel bounds how many containers start at once (default 16).
func WithParallel(n int) Option { return func(b *Backend) { b.parallel = max(n, 1) } }

// WithStartTimeout bounds the wait for one container to pass its health
// check after it starts, restarts or reconnects (default 30s).
func WithStartTimeout(d time.Duration) Option { return func(b *Backend) { b.timeout = d } }

// WithGracefulKill makes Fleet.Kill stop a server as docker stop does:
// SIGTERM, then SIGKILL if it has not exited within grace. By default Kill
// sends SIGKILL at once, as a crash would.
func WithGracefulKill(grace time.Duration) Option {
	return func(b *Backend) { b.grace = max(grace, 0) }
}

// New returns a backend running image, which must exist locally (see
// Build, and BuildPackage for a server main of your own): it is never
// pulled. The image's entrypoint takes the flags of `rpcfleet serve`.
func New(image string, opts ...Option) *Backend {
	b := &Backend{image: image, parallel: 16, timeout: 30 * time.Second}
	for _, o := range opts {
		o(b)
	}
	return b
}

// Start creates the fleet's network and starts cfg.Servers containers on
// it, at most WithParallel at once, and returns when every one passes its
// health check. If the image does not exist locally, Start fails at once:
// it never pulls. On error it removes everything it created.
func (b *Backend) Start(ctx context.Context, cfg driver.Config) (driver.Cluster, error) {
	if err := check(cfg); err != nil {
		return nil, err
	}
	cli, err := dockerClient(ctx)
	if err != nil {
		return nil, fmt.Errorf("fleet/container: docker: %w", err)
	}
	// testcontainers-go pulls an image it does not find, retrying with
	// backoff; no registry is reachable, so look first and never pull.
	if err := b.imageExists(ctx, cli); err != nil {
		cli.Close()
		return nil, err
	}
	labels := ownerLabels()
	labels[labelFleet] = randomID()
	c := &cluster{cli: cli, id: labels[labelFleet], token: cfg.ControlToken, parallel: b.parallel, nodes: make([]*Node, cfg.Servers)}
	if c.token == "" {
		// Inside its container a server's control port listens beyond
		// loopback, which takes a token: one of the fleet's own.
		c.token = newToken()
	}
	// On error, Stop removes what was created, also what the engine
	// created for a request that ctx interrupted: it finds it by label.
	fail := func(err error) (driver.Cluster, error) {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		return nil, errors.Join(err, c.Stop(sctx))
	}
	c.net, err = network.New(ctx, network.WithLabels(labels))
	if err != nil {
		return fail(fmt.Errorf("fleet/container: network: %w", err))
	}
	errs := c.each(func(i int) error {
		n, err := b.run(ctx, c, cfg, i, labels)
		c.nodes[i] = n // set even on error: Stop removes what was created
		return err
	})
	if errs != nil {
		return fail(fmt.Errorf("fleet/container: start: %w", errs))
	}
	c.ready()
	return c, nil
}

// newToken returns a random control token, for the servers of a fleet
// or a pool that was given none.
func newToken() string {
	tok := make([]byte, 16)
	rand.Read(tok)
	return hex.EncodeToString(tok)
}

// randomID returns a fleet's or a pool's random id.
func randomID() string {
	id := make([]byte, 6)
	rand.Read(id)
	return hex.EncodeToString(id)
}

// check returns an error naming the first option of cfg that containers
// cannot honour.
func check(cfg driver.Config) error {
	switch {
	case cfg.BasePort != 0 || cfg.ControlBasePort != 0:
		return errors.New("fleet/container: containers publish ephemeral ports: WithBasePort and WithControl ports are not supported")
	case cfg.FleetID != "":
		return fmt.Errorf("fleet/container: WithFleetID(%q): a container fleet names itself, with a random id", cfg.FleetID)
	case cfg.Host != "" && cfg.Host != "127.0.0.1":
		return fmt.Errorf("fleet/container: WithHost(%q): containers publish on 127.0.0.1 only", cfg.Host)
	case len(cfg.Services) > 0:
		return fmt.Errorf("fleet/container: WithService(%q): a container serves its image's own services: build an image of your own server main (fleet/serve) with BuildPackage and pass its tag to New", cfg.Services[0].Name)
	case cfg.UnixDir != "":
		return fmt.Errorf("fleet/container: WithUnixSockets(%q): containers publish TCP ports", cfg.UnixDir)
	case os.Getenv(RyukEnv) != "true":
		return fmt.Errorf("fleet/container: set %s=true: Ryuk's image cannot be pulled offline, and the backend removes its containers itself", RyukEnv)
	}
	return nil
}

// imageExists returns an error unless the backend's image exists locally.
func (b *Backend) imageExists(ctx context.Context, cli *testcontainers.DockerClient) error {
	_, err := cli.ImageInspect(ctx, b.image)
	switch {
	case isNotFound(err):
		return fmt.Errorf("fleet/container: image %q not found locally: build it with make image, container.Build or container.BuildPackage", b.image)
	case err != nil:
		return fmt.Errorf("fleet/container: image %q: %w", b.image, err)
	}
	return nil
}

// run starts server i of the fleet.
func (b *Backend) run(ctx context.Context, c *cluster, cfg driver.Config, i int, labels map[string]string) (*Node, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	index := cfg.FirstIndex + i
	args := []string{"--count", "1", "--host", "0.0.0.0", "--port", "7000", "--control-port", "7001",
		"--index", strconv.Itoa(index), "--fleet-size", strconv.Itoa(max(cfg.FleetSize, cfg.FirstIndex+cfg.Servers)),
		"--seed", strconv.FormatUint(cfg.Seed, 10), "--fleet-id", c.id}
	if len(cfg.Faults.Rules) > 0 {
		args = append(args, "--faults", cfg.Faults.String())
	}
	// As in process, 0 keeps every call (serve's own default is a limit).
	args = append(args, "--journal-limit", strconv.Itoa(cfg.JournalLimit))
	if cfg.MaxRequestSize > 0 {
		args = append(args, "--max-request-size", strconv.Itoa(cfg.MaxRequestSize))
	}
	n := &Node{cl: c, index: index, timeout: b.timeout, grace: b.grace, fleetID: c.id, born: c.id}
	for try := 1; ; try++ {
		ctr, err := testcontainers.Run(ctx, b.image,
			testcontainers.WithCmd(args...),
			// In the environment, not the command line, which ps shows.
			testcontainers.WithEnv(map[string]string{TokenEnv: c.token}),
			testcontainers.WithExposedPorts(dataPort, controlPort),
			testcontainers.WithHostConfigModifier(publishOnLoopback),
			testcontainers.WithLabels(labels),
			testcontainers.WithLabels(map[string]string{labelIndex: strconv.Itoa(index)}),
			network.WithNetwork(nil, c.net),
			testcontainers.WithWaitStrategyAndDeadline(b.timeout, healthy{n: n}),
			testcontainers.WithLogger(quiet{}),
		)
		if ctr != nil {
			n.ctr = ctr
		}
		if err == nil {
			return n, nil
		}
		if !portTaken(err) || try == portTries {
			return n, fmt.Errorf("server %d: %w", index, err)
		}
		// Docker picked a host port a client socket holds: try again.
		if ctr != nil {
			if err := c.removeContainer(ctx, ctr.GetContainerID()); err != nil {
				return n, fmt.Errorf("server %d: %w", index, err)
			}
			n.ctr = nil
		}
	}
}

// portTries is how many host ports a start tries before it gives up: a
// busy machine's client sockets may hold a few of the ports Docker picks
// one after another.
const portTries = 5

// portTaken reports whether a container failed to start because the host
// port Docker allocated for it was in use: Docker's ephemeral ports overlap
// the kernel's, so a client socket may hold one.
func portTaken(err error) bool {
	return err != nil && strings.Contains(err.Error(), "address already in use")
}

// publishOnLoopback publishes both ports on 127.0.0.1, ephemeral host ports.
func publishOnLoopback(hc *dcontainer.HostConfig) {
	lo := netip.MustParseAddr("127.0.0.1")
	hc.PortBindings = dnetwork.PortMap{}
	for _, p := range []string{dataPort, controlPort} {
		hc.PortBindings[dnetwork.MustParsePort(p)] = []dnetwork.PortBinding{{HostIP: lo, HostPort: "0"}}
	}
}

// silenceBanner makes testcontainers-go's package-wide default logger
// quiet, once per process, before the package first connects (dockerClient): it prints
// a banner of a dozen lines through it when a process first connects to
// Docker, whatever logger a request is given (WithLogger, which each
// request of the backend sets to quiet, covers only the request's own
// log). The backend prints nothing of its own; to see testcontainers-go's
// log, give it a logger of yours (log.SetDefault of its log package)
// after the first Start.
var silenceBanner sync.Once

// dockerClient connects to the Docker engine as testcontainers-go does,
// its banner silenced first (see silenceBanner). The caller closes it.
func dockerClient(ctx context.Context) (*testcontainers.DockerClient, error) {
	silenceBanner.Do(func() { tclog.SetDefault(quiet{}) })
	return testcontainers.NewDockerClientWithOpts(ctx)
}

// quiet drops testcontainers-go's progress log.
type quiet struct{}

func (quiet) Printf(string, ...any) {}
