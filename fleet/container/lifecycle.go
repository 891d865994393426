package container

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	dcontainer "github.com/moby/moby/api/types/container"
	dnetwork "github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
)

// The ports `rpcfleet serve` listens on inside every container.
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

// RyukEnv must be "true": the backend removes what it creates itself.
const RyukEnv = "TESTCONTAINERS_RYUK_DISABLED"

// Backend starts fleets as Docker containers of one image. It is safe for
// concurrent use and may start any number of fleets.
type Backend struct {
	image    string
	parallel int
	timeout  time.Duration
}

var _ fleet.Backend = (*Backend)(nil)

// Option configures New.
type Option func(*Backend)

// WithParallel bounds how many containers start at once (default 16).
func WithParallel(n int) Option { return func(b *Backend) { b.parallel = max(n, 1) } }

// WithStartTimeout bounds the wait for one container to pass its health
// check after it starts, restarts or reconnects (default 30s).
func WithStartTimeout(d time.Duration) Option { return func(b *Backend) { b.timeout = d } }

// New returns a backend running image, which must exist locally (see
// Build): it is never pulled.
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
func (b *Backend) Start(ctx context.Context, cfg fleet.Config) (fleet.Cluster, error) {
	switch {
	case cfg.BasePort != 0 || cfg.ControlBasePort != 0:
		return nil, errors.New("fleet/container: containers publish ephemeral ports: WithBasePort and WithControl ports are not supported")
	case cfg.FleetID != "":
		return nil, fmt.Errorf("fleet/container: WithFleetID(%q): a container fleet names itself, with a random id", cfg.FleetID)
	case cfg.Host != "" && cfg.Host != "127.0.0.1":
		return nil, fmt.Errorf("fleet/container: WithHost(%q): containers publish on 127.0.0.1 only", cfg.Host)
	case os.Getenv(RyukEnv) != "true":
		return nil, fmt.Errorf("fleet/container: set %s=true: Ryuk's image cannot be pulled offline, and the backend removes its containers itself", RyukEnv)
	}
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return nil, fmt.Errorf("fleet/container: docker: %w", err)
	}
	// testcontainers-go pulls an image it does not find, retrying with
	// backoff; no registry is reachable, so look first and never pull.
	if err := b.imageExists(ctx, cli); err != nil {
		cli.Close()
		return nil, err
	}
	id := make([]byte, 6)
	rand.Read(id)
	labels := ownerLabels()
	labels[labelFleet] = hex.EncodeToString(id)
	c := &cluster{cli: cli, id: labels[labelFleet], parallel: b.parallel, nodes: make([]*Node, cfg.Servers)}
	// On error, Stop removes what was created, also what the engine
	// created for a request that ctx interrupted: it finds it by label.
	fail := func(err error) (fleet.Cluster, error) {
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
	c.fnodes = make([]fleet.Node, len(c.nodes))
	for i, n := range c.nodes {
		c.fnodes[i] = n
	}
	return c, nil
}

// imageExists returns an error unless the backend's image exists locally.
func (b *Backend) imageExists(ctx context.Context, cli *testcontainers.DockerClient) error {
	_, err := cli.ImageInspect(ctx, b.image)
	switch {
	case isNotFound(err):
		return fmt.Errorf("fleet/container: image %q not found locally: build it with make image or container.Build", b.image)
	case err != nil:
		return fmt.Errorf("fleet/container: image %q: %w", b.image, err)
	}
	return nil
}

// run starts server i of the fleet.
func (b *Backend) run(ctx context.Context, c *cluster, cfg fleet.Config, i int, labels map[string]string) (*Node, error) {
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
	n := &Node{cl: c, index: index, timeout: b.timeout}
	for try := 1; ; try++ {
		ctr, err := testcontainers.Run(ctx, b.image,
			testcontainers.WithCmd(args...),
			testcontainers.WithExposedPorts(dataPort, controlPort),
			testcontainers.WithHostConfigModifier(publishOnLoopback),
			testcontainers.WithLabels(labels),
			testcontainers.WithLabels(map[string]string{labelIndex: strconv.Itoa(index)}),
			network.WithNetwork(nil, c.net),
			testcontainers.WithWaitStrategyAndDeadline(b.timeout, healthy{n}),
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

// start starts a stopped container, again if its new host port is taken.
func (n *Node) start(ctx context.Context) error {
	for try := 1; ; try++ {
		err := n.ctr.Start(ctx) // runs the health check, which reads the new ports
		if !portTaken(err) || try == portTries {
			return err
		}
	}
}

// publishOnLoopback publishes both ports on 127.0.0.1, ephemeral host ports.
func publishOnLoopback(hc *dcontainer.HostConfig) {
	lo := netip.MustParseAddr("127.0.0.1")
	hc.PortBindings = dnetwork.PortMap{}
	for _, p := range []string{dataPort, controlPort} {
		hc.PortBindings[dnetwork.MustParsePort(p)] = []dnetwork.PortBinding{{HostIP: lo, HostPort: "0"}}
	}
}

// cluster is a fleet of containers.
type cluster struct {
	cli      *testcontainers.DockerClient
	id       string                        // the fleet's label value
	net      *testcontainers.DockerNetwork // nil until created
	parallel int
	nodes    []*Node // a nil or container-less node failed to start
	fnodes   []fleet.Node

	mu      sync.Mutex // serialises Stop
	stopped bool
}

var _ fleet.Cluster = (*cluster)(nil)

func (c *cluster) Nodes() []fleet.Node { return c.fnodes }

// each runs fn(i) for every node, at most c.parallel at once, and joins
// the errors.
func (c *cluster) each(fn func(i int) error) error {
	sem := make(chan struct{}, c.parallel)
	errs := make([]error, len(c.nodes))
	var wg sync.WaitGroup
	for i := range c.nodes {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = fn(i)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Stop removes every container (SIGKILL, then remove) and the network, and
// closes the Docker client. Beyond the containers and the network it
// knows, it removes every one labelled with the fleet's id: a request that
// ctx interrupted may still have created one.
func (c *cluster) Stop(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return nil
	}
	err := c.each(func(i int) error {
		n := c.nodes[i]
		if n == nil {
			return nil
		}
		// After a Kill or Disconnect in progress, which may hold ports.
		n.life.Lock()
		defer n.life.Unlock()
		if n.ctr == nil || n.removed {
			return nil
		}
		if err := c.removeContainer(ctx, n.ctr.GetContainerID()); err != nil {
			return fmt.Errorf("remove server %d: %w", n.index, err)
		}
		n.removed = true
		n.releasePorts()
		return nil
	})
	if err == nil {
		err = c.removeLabelled(ctx)
	}
	if err != nil {
		return fmt.Errorf("fleet/container: stop: %w", err)
	}
	c.stopped = true
	return c.cli.Close()
}

func (c *cluster) removeContainer(ctx context.Context, id string) error {
	_, err := c.cli.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
	if isNotFound(err) {
		return nil
	}
	return err
}

// removeLabelled removes every container, then every network, that
// carries the fleet's label.
func (c *cluster) removeLabelled(ctx context.Context) error {
	f := make(client.Filters).Add("label", labelFleet+"="+c.id)
	ctrs, err := c.cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return fmt.Errorf("list containers: %w", err)
	}
	var errs []error
	for _, ct := range ctrs.Items {
		if err := c.removeContainer(ctx, ct.ID); err != nil {
			errs = append(errs, fmt.Errorf("remove container %.12s: %w", ct.ID, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err // a network with containers cannot be removed
	}
	nets, err := c.cli.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		return fmt.Errorf("list networks: %w", err)
	}
	for _, n := range nets.Items {
		if _, err := c.cli.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{}); err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("remove network %.12s: %w", n.ID, err))
		}
	}
	return errors.Join(errs...)
}

// Node is one server of a container fleet. Its methods are safe for
// concurrent use.
type Node struct {
	cl      *cluster
	index   int
	timeout time.Duration
	ctr     *testcontainers.DockerContainer
	removed bool // by cluster.Stop, under cl.mu

	// life serialises the lifecycle methods (Kill, Stop, Restart, Pause,
	// Unpause, Disconnect, Reconnect), as fleet.Server's does: each one
	// starts from the state the one before left.
	life sync.Mutex

	mu      sync.Mutex   // guards the fields below
	addr    string       // data address on 127.0.0.1
	ctlAddr string       // control address on 127.0.0.1
	down    bool         // killed or stopped, not restarted yet
	past    []fleet.Call // the journals of earlier processes
	holds   []*portHold  // the ports of a stopped or cut-off container: Addr and ControlAddr refuse dials

	// Under life: the last SetFaults, which Restart sets again in the new
	// process; whether the server is paused or disconnected, so that
	// SetFaults does not wait on a server that cannot answer; and whether
	// a plan set meanwhile is still to be sent when it comes back.
	plan    *faults.Plan
	cut     string // "paused", "disconnected" or ""
	pending bool
}

var (
	_ fleet.Node        = (*Node)(nil)
	_ fleet.Pauser      = (*Node)(nil)
	_ fleet.Partitioner = (*Node)(nil)
)

// Index returns the server's index in the fleet.
func (n *Node) Index() int { return n.index }

// ID returns the Docker container's id.
func (n *Node) ID() string { return n.ctr.GetContainerID() }

// Addr returns the server's data address on 127.0.0.1; it changes when the
// server restarts or reconnects. While the server is killed, stopped or
// disconnected, the backend holds the port (bound, not listening), so a
// dial to it is refused rather than reaching a container Docker has given
// the released port to; if another process took the port first, Addr
// returns a fresh held port, refused as well.
func (n *Node) Addr() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.addr
}

// ControlAddr returns the server's control address on 127.0.0.1.
func (n *Node) ControlAddr() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.ctlAddr
}

// errStale is the error of a control address that reaches a server
// other than the node's: Docker handed the port of a stopped or cut-off
// container to another one, maybe of another fleet.
var errStale = errors.New("a stale address: it reaches another server")

// dial connects to the control port at ctlAddr and returns its Health
// once it has checked that the server there is the node's: the same
// index and the same fleet id. The caller closes the client.
func (n *Node) dial(ctx context.Context, ctlAddr string) (*fleet.ControlClient, fleet.Health, error) {
	cc, err := fleet.DialControl(ctx, ctlAddr)
	if err != nil {
		return nil, fleet.Health{}, err
	}
	h, err := cc.Health(ctx)
	if err == nil && (h.Index != n.index || h.FleetID != n.cl.id) {
		err = fmt.Errorf("server %d: control %s answers as server %d of fleet %q, not of fleet %q: %w", n.index, ctlAddr, h.Index, h.FleetID, n.cl.id, errStale)
	}
	if err != nil {
		cc.Close()
		return nil, fleet.Health{}, err
	}
	return cc, h, nil
}

// control runs fn on a fresh connection to the node's control port, once
// dial has checked that it reaches the node's server.
func (n *Node) control(ctx context.Context, fn func(*fleet.ControlClient) error) error {
	cc, _, err := n.dial(ctx, n.ControlAddr())
	if err != nil {
		return err
	}
	defer cc.Close()
	return fn(cc)
}

// SetFaults replaces the server's plan through its control port. The
// node keeps the plan, as an in-process server does: set while the
// server is down, it takes effect when Restart brings it back, and
// Restart sets it again in the new process; set while it is paused or
// disconnected, it is sent when Unpause or Reconnect brings it back.
func (n *Node) SetFaults(ctx context.Context, p faults.Plan) error {
	n.life.Lock()
	defer n.life.Unlock()
	n.mu.Lock()
	down := n.down
	n.mu.Unlock()
	p.Rules = slices.Clone(p.Rules)
	if down || n.cut != "" {
		n.plan, n.pending = &p, n.cut != ""
		return nil
	}
	if err := n.control(ctx, func(cc *fleet.ControlClient) error { return cc.SetFaults(ctx, p) }); err != nil {
		return err
	}
	n.plan = &p
	return nil
}

// back ends a pause or a partition: a plan set meanwhile is sent now.
// The caller holds n.life.
func (n *Node) back(ctx context.Context) error {
	n.cut = ""
	if !n.pending {
		return nil
	}
	n.pending = false
	if err := n.control(ctx, func(cc *fleet.ControlClient) error { return cc.SetFaults(ctx, *n.plan) }); err != nil {
		return fmt.Errorf("fleet/container: server %d: back, but the faults set meanwhile are not: %w", n.index, err)
	}
	return nil
}

// Calls returns the server's journal: the calls of its earlier lives, as
// read just before each Kill, Stop or Restart, then those of the running
// process, read through its control port. Each call's Addr is the
// address the server had when the call was read. While the server is
// stopped, Calls returns the earlier lives' calls only, and dials nothing.
func (n *Node) Calls(ctx context.Context) ([]fleet.Call, error) {
	n.mu.Lock()
	calls, down := slices.Clone(n.past), n.down
	n.mu.Unlock()
	if down {
		return calls, nil
	}
	live, err := n.journal(ctx)
	if err != nil {
		return nil, err
	}
	return append(calls, live...), nil
}

// journal reads the running process's journal.
func (n *Node) journal(ctx context.Context) ([]fleet.Call, error) {
	var calls []fleet.Call
	err := n.control(ctx, func(cc *fleet.ControlClient) (err error) {
		calls, err = cc.Journal(ctx)
		return err
	})
	addr := n.Addr()
	for i := range calls {
		calls[i].Addr = addr
	}
	return calls, err
}

// lastJournal reads the running process's journal, as far as it can be
// read within a second, before the process ends: a frozen or cut-off
// server loses its journal.
func (n *Node) lastJournal(ctx context.Context) []fleet.Call {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	calls, _ := n.journal(ctx)
	return calls
}

// halt takes a server that is up down: it reads the journal, ends the
// process with end, counts the server down only once end succeeded, and
// waits until the container has stopped. A server that is down already
// is left alone. The caller holds n.life.
func (n *Node) halt(ctx context.Context, end func() error) error {
	n.mu.Lock()
	down := n.down
	n.mu.Unlock()
	if down {
		return nil
	}
	calls := n.lastJournal(ctx)
	if err := end(); err != nil {
		return err // still up: its journal stays where it is
	}
	n.mu.Lock()
	n.past, n.down = append(n.past, calls...), true
	n.mu.Unlock()
	if err := n.waitStopped(ctx); err != nil {
		return err
	}
	n.holdPorts()
	return nil
}

// holdPorts keeps the ports the container has released (see holdAddr),
// unless it holds them already.
func (n *Node) holdPorts() {
	n.mu.Lock()
	held, addr, ctlAddr := len(n.holds) > 0, n.addr, n.ctlAddr
	n.mu.Unlock()
	if held {
		return
	}
	h1, addr := holdAddr(addr)
	h2, ctlAddr := holdAddr(ctlAddr)
	n.mu.Lock()
	defer n.mu.Unlock()
	n.addr, n.ctlAddr = addr, ctlAddr
	for _, h := range []*portHold{h1, h2} {
		if h != nil {
			n.holds = append(n.holds, h)
		}
	}
}

// releasePorts lets go of the ports holdPorts kept, once the container
// has new ones or is removed.
func (n *Node) releasePorts() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, h := range n.holds {
		h.release()
	}
	n.holds = nil
}

// Kill reads the journal, sends SIGKILL and returns when the container has
// stopped: new connections are refused and calls in flight fail. Killing
// a stopped server does nothing.
func (n *Node) Kill(ctx context.Context) error {
	n.life.Lock()
	defer n.life.Unlock()
	return n.halt(ctx, func() error {
		_, err := n.cl.cli.ContainerKill(ctx, n.ID(), client.ContainerKillOptions{Signal: "KILL"})
		if isConflict(err) { // not running
			return nil
		}
		return err
	})
}

// Stop reads the journal, stops the server gracefully (SIGTERM; SIGKILL
// after timeout) and returns when the container has stopped. Stopping a
// stopped server does nothing.
func (n *Node) Stop(ctx context.Context, timeout time.Duration) error {
	n.life.Lock()
	defer n.life.Unlock()
	return n.stop(ctx, timeout)
}

func (n *Node) stop(ctx context.Context, timeout time.Duration) error {
	return n.halt(ctx, func() error { return n.ctr.Stop(ctx, &timeout) })
}

func (n *Node) waitStopped(ctx context.Context) error {
	w := n.cl.cli.ContainerWait(ctx, n.ID(), client.ContainerWaitOptions{Condition: dcontainer.WaitConditionNotRunning})
	select {
	case <-w.Result:
		return nil
	case err := <-w.Error:
		return err
	}
}

// Restart brings the server back in a new process and returns once it
// passes its health check, on new host ports (see Addr): a killed or
// stopped container is started; a running one whose server is down (a
// crash fault: its control port says so) is stopped and started.
// Restarting a server that is up, paused, or whose control port does not
// answer within a second (cut off, say) is an error that leaves it as it
// was. The new process starts with the fleet's seed, the faults last set
// (SetFaults) or else the fleet's, call numbers from 1 and an empty
// journal (Calls keeps the old one).
func (n *Node) Restart(ctx context.Context) error {
	n.life.Lock()
	defer n.life.Unlock()
	st, err := n.ctr.State(ctx)
	if err != nil {
		return err
	}
	if st.Paused {
		// A paused container counts as running and its kernel still
		// completes TCP handshakes: a probe would hang.
		return fmt.Errorf("server %d: paused: unpause it first", n.index)
	}
	if st.Running {
		up, err := n.probe(ctx)
		if err != nil {
			return fmt.Errorf("server %d: running, but its control port does not answer, so it is left as it is: %w", n.index, err)
		}
		if up {
			return fmt.Errorf("server %d: already up", n.index)
		}
		if err := n.stop(ctx, 5*time.Second); err != nil {
			return err
		}
	}
	if n.cut == "disconnected" {
		// Killed while cut off: it comes back on the fleet's network.
		if _, err := n.cl.cli.NetworkConnect(ctx, n.cl.net.ID, client.NetworkConnectOptions{Container: n.ID()}); err != nil {
			return err
		}
	}
	if err := n.start(ctx); err != nil {
		return err
	}
	n.releasePorts()
	n.mu.Lock()
	n.down = false
	n.mu.Unlock()
	n.cut, n.pending = "", false // the plan is set again just below
	if n.plan != nil {
		if err := n.control(ctx, func(cc *fleet.ControlClient) error { return cc.SetFaults(ctx, *n.plan) }); err != nil {
			return fmt.Errorf("server %d: restarted, but its faults are not set: %w", n.index, err)
		}
	}
	return nil
}

// probeTimeout bounds a control call to a server that should answer at
// once: one that does not is frozen or cut off.
const probeTimeout = time.Second

// probe asks the running process whether its server is up.
func (n *Node) probe(ctx context.Context) (up bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	cc, h, err := n.dial(ctx, n.ControlAddr())
	if err != nil {
		return false, err
	}
	cc.Close()
	return h.Up, nil
}

// Pause freezes every process of the container (docker pause): connections
// are still accepted by Docker's port proxy, but nothing answers.
func (n *Node) Pause(ctx context.Context) error {
	n.life.Lock()
	defer n.life.Unlock()
	if _, err := n.cl.cli.ContainerPause(ctx, n.ID(), client.ContainerPauseOptions{}); err != nil {
		return err
	}
	n.cut = "paused"
	return nil
}

// Unpause lets a paused container run again.
func (n *Node) Unpause(ctx context.Context) error {
	n.life.Lock()
	defer n.life.Unlock()
	if _, err := n.cl.cli.ContainerUnpause(ctx, n.ID(), client.ContainerUnpauseOptions{}); err != nil {
		return err
	}
	return n.back(ctx)
}

// Disconnect cuts the container off the fleet's network, its only one:
// its published ports go away with it, so connections are refused, and
// connections open before hang.
func (n *Node) Disconnect(ctx context.Context) error {
	n.life.Lock()
	defer n.life.Unlock()
	if _, err := n.cl.cli.NetworkDisconnect(ctx, n.cl.net.ID, client.NetworkDisconnectOptions{Container: n.ID()}); err != nil {
		return err
	}
	n.holdPorts()
	n.cut = "disconnected"
	return nil
}

// Reconnect attaches the container to the fleet's network again and
// returns once it passes its health check, on new host ports (see Addr).
func (n *Node) Reconnect(ctx context.Context) error {
	n.life.Lock()
	defer n.life.Unlock()
	if _, err := n.cl.cli.NetworkConnect(ctx, n.cl.net.ID, client.NetworkConnectOptions{Container: n.ID()}); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, n.timeout)
	defer cancel()
	if err := (healthy{n}).WaitUntilReady(ctx, n.ctr); err != nil {
		return err
	}
	n.releasePorts()
	return n.back(ctx)
}

// healthy is the readiness check: the server's control port answers
// Health, up, with the node's index and fleet id. It records the ports it found on the node.
// It inspects the container only to learn its ports and, while the check
// fails, now and then to notice that it exited: polling the Docker API
// would slow down every other container starting at the same time.
type healthy struct{ n *Node }

func (h healthy) WaitUntilReady(ctx context.Context, t wait.StrategyTarget) error {
	var addr, ctlAddr string
	var last error
	for try := 0; ; try++ {
		if ctlAddr == "" || try%10 == 0 {
			addr, ctlAddr, last = ports(ctx, t)
			if errors.Is(last, errExited) {
				return fmt.Errorf("server %d: %w", h.n.index, last)
			}
		}
		if ctlAddr != "" {
			if last = h.check(ctx, ctlAddr); last == nil {
				h.n.mu.Lock()
				h.n.addr, h.n.ctlAddr = addr, ctlAddr
				h.n.mu.Unlock()
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("server %d: not healthy: %w (last: %v)", h.n.index, ctx.Err(), last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// errExited is the health check's error for a container that stopped.
var errExited = errors.New("container stopped")

// ports returns the published data and control addresses of a running
// container.
func ports(ctx context.Context, t wait.StrategyTarget) (addr, ctlAddr string, err error) {
	ins, err := t.Inspect(ctx)
	if err != nil {
		return "", "", err
	}
	if st := ins.State; st != nil && !st.Running {
		return "", "", fmt.Errorf("%w: %s, exit code %d", errExited, st.Status, st.ExitCode)
	}
	addr, ok := published(ins.NetworkSettings, dataPort)
	ctlAddr, ok2 := published(ins.NetworkSettings, controlPort)
	if !ok || !ok2 {
		return "", "", errors.New("ports not published yet")
	}
	return addr, ctlAddr, nil
}

// check asks the control port at ctlAddr for the server's health.
func (h healthy) check(ctx context.Context, ctlAddr string) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	cc, hl, err := h.n.dial(ctx, ctlAddr)
	if err != nil {
		return err
	}
	cc.Close()
	if !hl.Up {
		return fmt.Errorf("health %+v, want server %d up", hl, h.n.index)
	}
	return nil
}

// published returns the 127.0.0.1 address port is published on.
func published(ns *dcontainer.NetworkSettings, port string) (string, bool) {
	if ns == nil {
		return "", false
	}
	for _, b := range ns.Ports[dnetwork.MustParsePort(port)] {
		if b.HostPort != "" && b.HostPort != "0" {
			return net.JoinHostPort("127.0.0.1", b.HostPort), true
		}
	}
	return "", false
}

// quiet drops testcontainers-go's progress log.
type quiet struct{}

func (quiet) Printf(string, ...any) {}
