package attach

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet/driver"
	"github.com/rpcfleet/rpcfleet/internal/parallel"
)

// Option configures New.
type Option func(*backend)

// WithPoll sets how often Start and Restart look the servers up again
// while they wait for one to answer (default 100ms).
func WithPoll(d time.Duration) Option { return func(b *backend) { b.poll = d } }

// WithParallel bounds how many servers Start and Stop talk to at once
// (default 16).
func WithParallel(n int) Option { return func(b *backend) { b.parallel = max(1, n) } }

// WithSettle makes Stop wait d, once it has cleared the faults, if any
// server had a blackhole plan: a port proxy in front of the servers
// (Docker's, for a Swarm task's published port) accepts a client's dial
// itself and retries its own into the blackholed server's full backlog
// (TCP's SYN retries: 1s, 3s, 7s, 15s after it began), so requests of the
// fleet's specs may reach the servers seconds after the blackhole ended,
// into the journal of the next fleet attached to them. Without a proxy
// the client's own dial ends with its timeout, and nothing is needed
// (default 0).
func WithSettle(d time.Duration) Option { return func(b *backend) { b.settle = d } }

// New returns a backend that attaches to the servers src finds. It may
// attach any number of fleets, one after another or at once to disjoint
// servers; two fleets attached to the same servers steer the same
// processes.
func New(src Source, opts ...Option) driver.Backend {
	b := &backend{src: src, poll: 100 * time.Millisecond, parallel: 16}
	for _, o := range opts {
		o(b)
	}
	return b
}

type backend struct {
	src      Source
	poll     time.Duration
	parallel int
	settle   time.Duration // WithSettle
}

var _ driver.Backend = (*backend)(nil)

// found is a server that answered Health at an endpoint.
type found struct {
	ep Endpoint
	h  driver.Health
}

// Start finds servers FirstIndex..FirstIndex+Servers-1, waiting for those
// that do not answer yet until ctx ends, and takes them over.
func (b *backend) Start(ctx context.Context, cfg driver.Config) (driver.Cluster, error) {
	switch {
	case len(cfg.Services) > 0:
		return nil, fmt.Errorf("fleet/attach: WithService(%q): attached servers serve their own program's services (build a server main on fleet/serve)", cfg.Services[0].Name)
	case cfg.UnixDir != "":
		return nil, errors.New("fleet/attach: WithUnixSockets: attached servers are reached over TCP")
	case cfg.BasePort != 0:
		return nil, fmt.Errorf("fleet/attach: WithBasePort(%d): attached servers keep the ports they were started on", cfg.BasePort)
	case cfg.ClockSkew != 0:
		return nil, fmt.Errorf("fleet/attach: WithClockSkew(%v): give attached servers theirs on their command line (rpcfleet serve --clock-skew)", cfg.ClockSkew)
	}
	if _, err := faults.Parse(cfg.Faults.String()); err != nil {
		return nil, fmt.Errorf("fleet/attach: start: %w", err)
	}
	c := &cluster{b: b, cfg: cfg, token: cfg.ControlToken, fleetID: cfg.FleetID, localClock: driver.LocalClockID(),
		size: max(cfg.FleetSize, cfg.FirstIndex+cfg.Servers)}
	want := make(map[int]bool, cfg.Servers)
	for i := range cfg.Servers {
		want[cfg.FirstIndex+i] = true
	}
	byIndex, err := c.find(ctx, want)
	if err != nil {
		return nil, err
	}
	c.nodes = make([]*node, cfg.Servers)
	c.fnodes = make([]driver.Node, cfg.Servers)
	for i := range c.nodes {
		f := byIndex[cfg.FirstIndex+i]
		n := &node{cl: c, index: cfg.FirstIndex + i, plan: cfg.Faults}
		n.adopt(f)
		c.nodes[i], c.fnodes[i] = n, n
	}
	err = c.each(func(n *node) error { return n.takeOver(ctx) })
	if err != nil {
		return nil, fmt.Errorf("fleet/attach: start: %w", err)
	}
	return c, nil
}

// cluster is an attached fleet.
type cluster struct {
	b          *backend
	cfg        driver.Config
	token      string
	fleetID    string // the servers' fleet id: cfg.FleetID, or the one they report
	localClock string // driver.LocalClockID of this process
	size       int    // the fleet size servers= rules see
	nodes      []*node
	fnodes     []driver.Node

	mu      sync.Mutex
	stopped bool
}

var _ driver.Cluster = (*cluster)(nil)

func (c *cluster) Nodes() []driver.Node { return c.fnodes }

// find looks the servers up until every index in want answers Health as
// a member of the fleet, and returns them by index.
func (c *cluster) find(ctx context.Context, want map[int]bool) (map[int]found, error) {
	got := map[int]found{}
	var last error
	for {
		fs, errs := c.probeAll(ctx, nil)
		last = errors.Join(errs...)
		for _, f := range fs {
			if !want[f.h.Index] || c.cfg.FleetID != "" && f.h.FleetID != c.cfg.FleetID {
				continue
			}
			if c.fleetID == "" {
				c.fleetID = f.h.FleetID
			}
			if f.h.FleetID != c.fleetID {
				return nil, fmt.Errorf("fleet/attach: %s is server %d of fleet %q, and %s of fleet %q: pass WithFleetID to pick one",
					f.ep.Control, f.h.Index, f.h.FleetID, firstOf(got, fs, c.fleetID), c.fleetID)
			}
			if o, ok := got[f.h.Index]; ok && o.ep.Control != f.ep.Control {
				return nil, fmt.Errorf("fleet/attach: %s and %s both answer as server %d of fleet %q", o.ep.Control, f.ep.Control, f.h.Index, c.fleetID)
			}
			got[f.h.Index] = f
		}
		if len(got) == len(want) {
			return got, nil
		}
		var idx []int
		for i := range want {
			if _, ok := got[i]; !ok {
				idx = append(idx, i)
			}
		}
		slices.Sort(idx)
		missing := make([]string, len(idx))
		for k, i := range idx {
			missing[k] = fmt.Sprint(i)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("fleet/attach: start: servers %s of fleet %q did not answer (found %d of %d): %w; last: %v",
				short(missing), c.fleetID, len(got), len(want), ctx.Err(), last)
		case <-time.After(c.b.poll):
		}
	}
}

// firstOf names an endpoint of fleet id among what was found, for an error.
func firstOf(got map[int]found, fs []found, id string) string {
	for _, f := range got {
		return f.ep.Control
	}
	for _, f := range fs {
		if f.h.FleetID == id {
			return f.ep.Control
		}
	}
	return "another"
}

// short lists a few of many.
func short(ss []string) string {
	if len(ss) > 8 {
		return strings.Join(ss[:8], ",") + fmt.Sprintf(" and %d more", len(ss)-8)
	}
	return strings.Join(ss, ",")
}

// probeAll looks the servers up and asks each its Health, skipping the
// control addresses in skip; it returns those that answered and why the
// others did not.
func (c *cluster) probeAll(ctx context.Context, skip map[string]bool) ([]found, []error) {
	eps, err := c.b.src.Lookup(ctx)
	if err != nil {
		return nil, []error{err}
	}
	eps = slices.DeleteFunc(eps, func(e Endpoint) bool { return skip[e.Control] })
	out := make([]*found, len(eps))
	errs := make([]error, len(eps))
	sem := make(chan struct{}, c.b.parallel)
	var wg sync.WaitGroup
	for i, ep := range eps {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			pctx, cancel := context.WithTimeout(ctx, probeTimeout)
			defer cancel()
			h, err := c.health(pctx, ep.Control)
			if err != nil {
				errs[i] = err
				return
			}
			out[i] = &found{ep: ep, h: h}
		})
	}
	wg.Wait()
	var fs []found
	for _, f := range out {
		if f != nil {
			fs = append(fs, *f)
		}
	}
	return fs, errs
}

// probeTimeout bounds one Health probe while looking servers up.
const probeTimeout = 2 * time.Second

// dial connects to the control port at addr with the fleet's token;
// beyond loopback a token is required.
func (c *cluster) dial(ctx context.Context, addr string) (*driver.ControlClient, error) {
	if c.token == "" && !loopback(addr) {
		return nil, fmt.Errorf("control %s is beyond loopback: attaching to it needs the control token (WithControlToken; rpcfleet run --control-token or $RPCFLEET_CONTROL_TOKEN)", addr)
	}
	return driver.DialControl(ctx, addr, driver.WithToken(c.token))
}

// health asks the server at the control address addr for its Health.
func (c *cluster) health(ctx context.Context, addr string) (driver.Health, error) {
	cc, err := c.dial(ctx, addr)
	if err != nil {
		return driver.Health{}, err
	}
	defer cc.Close()
	return cc.Health(ctx)
}

// loopback reports whether the host of addr is a loopback address or
// "localhost".
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// each runs fn on every node, at most the backend's parallel at once, and
// joins the errors.
func (c *cluster) each(fn func(n *node) error) error {
	return parallel.Each(len(c.nodes), c.b.parallel, func(i int) error {
		n := c.nodes[i]
		if err := fn(n); err != nil {
			return fmt.Errorf("server %d: %w", n.index, err)
		}
		return nil
	})
}

// Stop detaches: every server that answers is left serving with no
// faults (unpaused, reconnected, restarted if it is down in its
// process); one that does not answer (killed, on its way back) is left to
// its orchestrator. It stops no server process.
func (c *cluster) Stop(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return nil
	}
	err := c.each(func(n *node) error { return n.detach(ctx) })
	if err != nil {
		return fmt.Errorf("fleet/attach: stop: %w", err)
	}
	c.stopped = true
	if c.b.settle > 0 && slices.ContainsFunc(c.nodes, (*node).holed) {
		t := time.NewTimer(c.b.settle)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return fmt.Errorf("fleet/attach: stop: settling after a blackhole: %w", ctx.Err())
		}
	}
	return nil
}
