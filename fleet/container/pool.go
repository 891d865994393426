package container

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/network"

	"github.com/rpcfleet/rpcfleet/fleet/driver"
)

// Pool is a Backend that reuses containers: when a fleet it started
// stops, its containers are kept, and the next fleets it starts run on
// them instead of new ones. Starting a container takes Docker most of a
// second; renewing a kept one takes a few milliseconds.
//
//	pool := container.NewPool(container.New("rpcfleet:dev"))
//	defer pool.Close(ctx) // removes every container it kept, and its network
//	f, err := fleet.Start(ctx, fleet.WithServers(5), fleet.WithBackend(pool))
//	...
//	f.Stop(ctx) // gives the containers back to the pool
//
// A fleet started on kept containers is indistinguishable from one
// started on new containers, but for its servers' host ports and the time
// it takes. When a fleet stops, each of its containers is brought back up
// (unpaused, reconnected to the pool's network, started again if it was
// killed) and its server renewed through the control endpoint
// (driver.ControlClient.Renew): every connection to it closes and calls in
// flight end, its journal and call counts start again, the PRNG of its
// fault decisions starts from the seed, and its receivers are new
// instances (a user's own service keeps no state from one fleet to the
// next). The next fleet renews it again to its own seed, size, fleet id
// and faults. A container whose server had a blackhole is also cut off
// and connected again, on new host ports: Docker's port proxy keeps
// dialling a blackholed container after its client has given up, and
// would deliver that client's request to the next fleet. A container
// that cannot be brought back is removed instead.
// The fleet's Stop ends its hold on them: its Node methods return errors
// afterwards, as after any Stop.
//
// A container is kept for the server index it was started as, its
// journal limit and its control token (fleet.WithControlToken, or one the
// pool draws for fleets given none): a fleet of 10 servers reuses those of an earlier fleet
// of 3 for its first three servers and starts seven. Every fleet of a
// pool runs on the pool's one network (created by the first Start), so a
// Disconnect cuts a server off from the others of its fleet as on a
// fleet's own network.
//
// A Pool is safe for concurrent use and may start any number of fleets at
// once; it keeps every container it starts until Close. Its containers and
// network carry the labels of Backend's, with the pool's id as their
// fleet id: Sweep removes a pool that a killed process left. One pool per
// Ginkgo process, closed when the suite ends, is the intended use.
type Pool struct {
	b      *Backend
	id     string            // the label of every container and the network
	labels map[string]string // of every container and the network
	token  string            // the control token of fleets given none

	mu     sync.Mutex
	net    *testcontainers.DockerNetwork // nil until the first Start
	idle   map[poolKey][]*kept
	closed bool
	stats  PoolStats
}

var _ driver.Backend = (*Pool)(nil)

// poolKey is what a kept container can serve as: a server of that index,
// with that journal limit and that control token (its container's
// environment holds it).
type poolKey struct {
	index, limit int
	token        string
}

// kept is a container that the pool keeps between fleets: up, unpaused,
// connected, its server renewed.
type kept struct {
	ctr           *testcontainers.DockerContainer
	key           poolKey
	addr, ctlAddr string
	fleetID, born string // as in Node
}

// PoolStats counts what a Pool has done.
type PoolStats struct {
	Created int // servers started on a new container
	Reused  int // servers started on a kept container
	Removed int // containers that could not be kept when their fleet stopped
	Idle    int // containers kept, waiting for a fleet
}

// NewPool returns a pool of containers that b starts: of b's image, with
// b's options. It creates nothing until its first Start.
func NewPool(b *Backend) *Pool {
	labels := ownerLabels()
	labels[labelFleet] = randomID()
	return &Pool{b: b, id: labels[labelFleet], labels: labels, token: newToken(), idle: map[poolKey][]*kept{}}
}

// Start starts a fleet of cfg.Servers servers, on kept containers where
// the pool has them and on new ones (at most WithParallel at once) for
// the rest, and returns once every one serves, renewed to cfg. It checks
// cfg and the image as Backend.Start does. On error the containers it
// took or started are removed; once the pool is closed, Start fails.
func (p *Pool) Start(ctx context.Context, cfg driver.Config) (driver.Cluster, error) {
	if err := check(cfg); err != nil {
		return nil, err
	}
	cli, err := dockerClient(ctx)
	if err != nil {
		return nil, fmt.Errorf("fleet/container: docker: %w", err)
	}
	if err := p.b.imageExists(ctx, cli); err != nil {
		cli.Close()
		return nil, err
	}
	nw, err := p.network(ctx)
	if err != nil {
		cli.Close()
		return nil, err
	}
	c := &cluster{cli: cli, id: randomID(), token: cfg.ControlToken, net: nw, parallel: p.b.parallel, nodes: make([]*Node, cfg.Servers), pool: p, limit: cfg.JournalLimit}
	if c.token == "" {
		c.token = p.token
	}
	r := driver.Renewal{Seed: cfg.Seed, FleetSize: max(cfg.FleetSize, cfg.FirstIndex+cfg.Servers), FleetID: c.id, Faults: cfg.Faults}
	taken := p.take(cfg, c.token)
	errs := c.each(func(i int) error {
		if k := taken[i]; k != nil {
			n := &Node{cl: c, index: k.key.index, timeout: p.b.timeout, grace: p.b.grace, ctr: k.ctr,
				addr: k.addr, ctlAddr: k.ctlAddr, fleetID: k.fleetID, born: k.born, renewal: &r}
			if err := n.renew(ctx, r); err == nil {
				c.nodes[i] = n
				p.count(func(s *PoolStats) { s.Reused++ })
				return nil
			}
			// It died while kept, say: a new one serves instead, and
			// Close removes this one if it cannot be removed now.
			_ = c.removeContainer(ctx, k.ctr.GetContainerID())
		}
		n, err := p.b.run(ctx, c, cfg, i, p.labels)
		if n != nil {
			n.renewal = &r
		}
		c.nodes[i] = n // set even on error: Stop removes what was created
		if err == nil {
			p.count(func(s *PoolStats) { s.Created++ })
		}
		return err
	})
	if errs != nil {
		c.discard = true
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		return nil, errors.Join(fmt.Errorf("fleet/container: start: %w", errs), c.Stop(sctx))
	}
	c.ready()
	return c, nil
}

// network returns the pool's network, created by the first call.
func (p *Pool) network(ctx context.Context) (*testcontainers.DockerNetwork, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, errors.New("fleet/container: pool closed")
	}
	if p.net == nil {
		nw, err := network.New(ctx, network.WithLabels(p.labels))
		if err != nil {
			return nil, fmt.Errorf("fleet/container: network: %w", err)
		}
		p.net = nw
	}
	return p.net, nil
}

// take takes, for each server of cfg, a kept container that can serve as
// it with token, or nil.
func (p *Pool) take(cfg driver.Config, token string) []*kept {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*kept, cfg.Servers)
	for i := range out {
		key := poolKey{cfg.FirstIndex + i, cfg.JournalLimit, token}
		if ks := p.idle[key]; len(ks) > 0 {
			out[i], p.idle[key] = ks[len(ks)-1], ks[:len(ks)-1]
			p.stats.Idle--
		}
	}
	return out
}

func (p *Pool) count(fn func(*PoolStats)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fn(&p.stats)
}

// Stats returns what the pool has done so far.
func (p *Pool) Stats() PoolStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// keep brings the container of n, a node of a fleet that is stopping, back
// to what the pool keeps, ends the fleet's hold on it and keeps it. It
// returns false, and keeps nothing, if the pool has closed or a step
// failed: the caller removes the container. The caller holds n.life.
func (p *Pool) keep(ctx context.Context, n *Node) bool {
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return false
	}
	k, err := n.recycle(ctx)
	if err != nil {
		p.count(func(s *PoolStats) { s.Removed++ })
		return false
	}
	k.key = poolKey{n.index, n.cl.limit, n.cl.token}
	n.mu.Lock()
	n.setState(removed) // the fleet's Node is done with it
	n.mu.Unlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.idle[k.key] = append(p.idle[k.key], k)
	p.stats.Idle++
	return true
}

// Close removes every container the pool started, those of fleets still
// running included, and its network, and returns when they are gone.
// Call it once the pool's fleets have stopped; a fleet that stops later
// finds nothing to give back. Close may be called more than once.
func (p *Pool) Close(ctx context.Context) error {
	p.mu.Lock()
	p.closed = true
	p.idle = map[poolKey][]*kept{}
	p.stats.Idle = 0
	created := p.net != nil
	p.mu.Unlock()
	if !created {
		return nil
	}
	cli, err := dockerClient(ctx)
	if err != nil {
		return fmt.Errorf("fleet/container: docker: %w", err)
	}
	defer cli.Close()
	if err := (&cluster{cli: cli, id: p.id, parallel: p.b.parallel}).removeLabelled(ctx); err != nil {
		return fmt.Errorf("fleet/container: close pool: %w", err)
	}
	return nil
}

// renew renews the node's server to r through its control port (see
// driver.ControlClient.Renew): afterwards it reports r's fleet id.
func (n *Node) renew(ctx context.Context, r driver.Renewal) error {
	if err := n.control(ctx, func(cc *driver.ControlClient) error { return cc.Renew(ctx, r) }); err != nil {
		return err
	}
	n.mu.Lock()
	n.fleetID = r.FleetID
	n.mu.Unlock()
	return nil
}

// recycle brings the node's container back up, unpaused and on the
// pool's network, whatever the fleet did to it (Docker's view decides,
// not the node's, which may lag it), and renews its server without
// faults. The caller holds n.life.
func (n *Node) recycle(ctx context.Context) (*kept, error) {
	ins, err := n.ctr.Inspect(ctx)
	if err != nil {
		return nil, err
	}
	if ins.State == nil || ins.NetworkSettings == nil {
		return nil, errors.New("container state unknown")
	}
	if ins.State.Paused {
		if _, err := n.cl.cli.ContainerUnpause(ctx, n.ID(), client.ContainerUnpauseOptions{}); err != nil {
			return nil, err
		}
	}
	_, connected := ins.NetworkSettings.Networks[n.cl.net.Name]
	if connected && ins.State.Running && (n.holed || hasBlackhole(n.renewal.Faults)) {
		// A blackhole drops SYNs, and Docker's port proxy, which accepts
		// a client at once and then dials the container, keeps dialling
		// after its client has given up: once the blackhole ends (the
		// renewal ends it), its next retransmission connects and sends
		// the old client's request to the next fleet. Cutting the
		// container off ends those proxies; connecting it again below
		// publishes its ports afresh. (A stopped container's proxies
		// ended when it stopped.)
		if _, err := n.cl.cli.NetworkDisconnect(ctx, n.cl.net.ID, client.NetworkDisconnectOptions{Container: n.ID()}); err != nil {
			return nil, err
		}
		connected = false
	}
	n.holed = false
	if !connected {
		if _, err := n.cl.cli.NetworkConnect(ctx, n.cl.net.ID, client.NetworkConnectOptions{Container: n.ID()}); err != nil {
			return nil, err
		}
	}
	switch {
	case !ins.State.Running:
		if err := n.start(ctx); err != nil {
			return nil, err
		}
	case !connected: // new ports
		wctx, cancel := context.WithTimeout(ctx, n.timeout)
		defer cancel()
		if err := (healthy{n: n, orDown: true}).WaitUntilReady(wctx, n.ctr); err != nil {
			return nil, err
		}
	}
	n.releasePorts()
	r := *n.renewal
	r.Faults.Rules = nil
	if err := n.renew(ctx, r); err != nil {
		return nil, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return &kept{ctr: n.ctr, addr: n.addr, ctlAddr: n.ctlAddr, fleetID: n.fleetID, born: n.born}, nil
}
