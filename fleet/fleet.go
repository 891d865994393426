package fleet

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"

	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet/driver"
	"github.com/rpcfleet/rpcfleet/internal/inject"
	"github.com/rpcfleet/rpcfleet/internal/memnet"
)

// Fleet is a set of running net/rpc servers reached on 127.0.0.1, in this
// process or run by another Backend. Start creates it; the caller must call
// Stop. Its methods are safe for concurrent use.
type Fleet struct {
	cluster driver.Cluster
	nodes   []driver.Node
	journal *journal        // the live journal of an in-process fleet, else nil
	mem     *memnet.Network // the network of a fleet WithMemory, else nil
	seed    uint64
}

// MaxServers is the most servers one fleet may have: each in-process
// server listens on a loopback port of its own (two with WithControl),
// and a host has 65,535; in practice the open-file limit binds first.
const MaxServers = 65535

// MaxMemoryServers is the most servers a fleet WithMemory may have: it
// holds no ports and no file descriptors, only memory (about 7 KB per
// server while idle, see BENCHMARKS.md).
const MaxMemoryServers = 1 << 20

// Start starts the servers and returns once every one of them accepts
// connections. ctx bounds the start only; the fleet runs until Stop. On
// error nothing is left running.
func Start(ctx context.Context, opts ...Option) (*Fleet, error) {
	cfg := defaults()
	for _, o := range opts {
		o(&cfg)
	}
	limit := MaxServers
	if cfg.Memory {
		limit = MaxMemoryServers
	}
	if cfg.Servers < 1 || cfg.Servers > limit {
		return nil, fmt.Errorf("fleet: WithServers(%d): want 1..%d servers", cfg.Servers, limit)
	}
	for _, b := range []struct {
		name string
		port int
	}{{"WithBasePort", cfg.BasePort}, {"WithControl", cfg.ControlBasePort}} {
		if b.port < 0 || (b.port > 0 && b.port+cfg.Servers-1 > 65535) {
			return nil, fmt.Errorf("fleet: %s(%d) with %d servers: ports must lie in 1..65535", b.name, b.port, cfg.Servers)
		}
	}
	if cfg.FirstIndex < 0 {
		return nil, fmt.Errorf("fleet: WithFirstIndex(%d): must not be negative", cfg.FirstIndex)
	}
	if cfg.JournalLimit < 0 {
		return nil, fmt.Errorf("fleet: WithJournalLimit(%d): must not be negative", cfg.JournalLimit)
	}
	if cfg.HandshakeTimeout < 0 {
		return nil, fmt.Errorf("fleet: WithHandshakeTimeout(%v): must not be negative", cfg.HandshakeTimeout)
	}
	if cfg.HandshakeTimeout == 0 {
		cfg.HandshakeTimeout = DefaultHandshakeTimeout
	}
	for _, b := range []struct {
		name string
		bad  bool
		val  any
	}{
		{"WithIdleTimeout", cfg.IdleTimeout < 0, cfg.IdleTimeout},
		{"WithMaxRequestSize", cfg.MaxRequestSize < 0, cfg.MaxRequestSize},
		{"WithMaxInFlight", cfg.MaxInFlight < 0, cfg.MaxInFlight},
	} {
		if b.bad {
			return nil, fmt.Errorf("fleet: %s(%v): must not be negative", b.name, b.val)
		}
	}
	cfg.IdleTimeout = cmp.Or(cfg.IdleTimeout, DefaultIdleTimeout)
	cfg.MaxRequestSize = cmp.Or(cfg.MaxRequestSize, DefaultMaxRequestSize)
	cfg.MaxInFlight = cmp.Or(cfg.MaxInFlight, DefaultMaxInFlight)
	if cfg.Control && cfg.ControlToken == "" && cfg.Backend == nil && !Loopback(cfg.Host) {
		return nil, fmt.Errorf("fleet: WithControl on host %q needs WithControlToken: a control port beyond loopback steers the server for anyone who reaches it", cfg.Host)
	}
	for _, sv := range cfg.Services {
		if sv.Name == "" || sv.New == nil {
			return nil, fmt.Errorf("fleet: WithService(%q): needs a name and a constructor", sv.Name)
		}
	}
	if cfg.UnixDir != "" {
		if cfg.BasePort != 0 {
			return nil, fmt.Errorf("fleet: WithUnixSockets(%q) with WithBasePort(%d): sockets have no ports", cfg.UnixDir, cfg.BasePort)
		}
		if fi, err := os.Stat(cfg.UnixDir); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("fleet: WithUnixSockets(%q): not a directory", cfg.UnixDir)
		}
	}
	if err := checkMemory(cfg); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("fleet: start: %w", err)
	}
	b := cfg.Backend
	if b == nil {
		b = inProcess{}
	}
	cl, err := b.Start(ctx, cfg)
	if err != nil {
		return nil, err
	}
	f := &Fleet{cluster: cl, nodes: cl.Nodes(), seed: cfg.Seed}
	if l, ok := cl.(*localCluster); ok {
		f.journal, f.mem = l.journal, l.mem
	}
	return f, nil
}

// Start starts the in-process servers.
func (inProcess) Start(ctx context.Context, cfg driver.Config) (driver.Cluster, error) {
	if err := checkPlan(cfg.Faults); err != nil {
		return nil, fmt.Errorf("fleet: start: %w", err)
	}
	c := &localCluster{journal: &journal{limit: cfg.JournalLimit}, servers: make([]*server, cfg.Servers), nodes: make([]driver.Node, cfg.Servers)}
	if cfg.Memory {
		c.mem = memnet.New(fmt.Sprintf("mem-%08x", rand.Uint32()))
	}
	for i := range c.servers {
		if err := ctx.Err(); err != nil {
			c.Stop(context.Background())
			return nil, fmt.Errorf("fleet: start: %w", err)
		}
		s := newServer(cfg.FirstIndex+i, max(cfg.FleetSize, cfg.FirstIndex+cfg.Servers), cfg.Seed, c.journal)
		s.services, s.handshake, s.skew = cfg.Services, cfg.HandshakeTimeout, cfg.ClockSkew
		s.limits = inject.Limits{MaxRequest: cfg.MaxRequestSize, MaxInFlight: cfg.MaxInFlight, Idle: cfg.IdleTimeout}
		c.servers[i], c.nodes[i] = s, localNode{s}
		addr := hostPort(cfg.Host, cfg.BasePort, i)
		switch {
		case cfg.UnixDir != "":
			s.network, addr = "unix", filepath.Join(cfg.UnixDir, fmt.Sprintf("server-%d.sock", s.index))
		case c.mem != nil:
			s.network, s.mem, addr = "memory", c.mem, c.mem.Addr(s.index)
		}
		if err := s.listen(addr); err != nil {
			c.Stop(context.Background())
			return nil, err
		}
		if cfg.Control {
			ctl, err := startControl(s, hostPort(cfg.Host, cfg.ControlBasePort, i), cfg.FleetID, cfg.ControlToken, cfg.ControlKill)
			if err != nil {
				c.Stop(context.Background())
				return nil, err
			}
			s.ctl = ctl
		}
		s.SetFaults(cfg.Faults)
	}
	return c, nil
}

// Len returns the number of servers.
func (f *Fleet) Len() int { return len(f.nodes) }

// Seed returns the seed the fleet's fault decisions are drawn from.
func (f *Fleet) Seed() uint64 { return f.seed }

// Addrs returns the servers' current addresses in index order. A server of
// another backend may get a new address when it restarts: call Addrs again
// after Restart. The slice is the caller's to keep.
func (f *Fleet) Addrs() []string {
	out := make([]string, len(f.nodes))
	for i, n := range f.nodes {
		out[i] = n.Addr()
	}
	return out
}

// ControlAddrs returns the servers' control addresses in index order
// (WithControl), through which another process steers them; "" for a
// server without one. The slice is the caller's to keep.
func (f *Fleet) ControlAddrs() []string {
	out := make([]string, len(f.nodes))
	for i, n := range f.nodes {
		if c, ok := n.(interface{ ControlAddr() string }); ok {
			out[i] = c.ControlAddr()
		}
	}
	return out
}

// Calls returns every call the fleet's servers received, in the order
// received: in process, from the servers' one journal. On other backends
// it reads each server's journal and merges them: IDs, ReceivedAt and RepliedAt are
// renumbered fleet-wide from the Received and Replied times, which share
// the host's clock or, on an attached fleet, are corrected by each
// server's estimated clock offset (see Clock and Call.Uncertainty).
func (f *Fleet) Calls(ctx context.Context) ([]Call, error) {
	if f.journal != nil {
		return f.journal.Calls(), nil
	}
	per := make([][]Call, len(f.nodes))
	for i, n := range f.nodes {
		calls, err := n.Calls(ctx)
		if err != nil {
			return nil, fmt.Errorf("fleet: journal of server %d: %w", i, err)
		}
		per[i] = calls
	}
	return mergeCalls(per), nil
}

// ServerCalls returns the calls server i received, in order, on every
// backend.
func (f *Fleet) ServerCalls(ctx context.Context, i int) ([]Call, error) {
	n, err := f.node("journal of", i)
	if err != nil {
		return nil, err
	}
	calls, err := n.Calls(ctx)
	if err != nil {
		return nil, fmt.Errorf("fleet: journal of server %d: %w", i, err)
	}
	return calls, nil
}

// ResetCalls forgets every call the fleet's servers received so far and
// restarts their call counts (the numbers first=, after= and every= count
// and Call.N shows), on every backend. Calls in flight are not recorded
// when they end.
func (f *Fleet) ResetCalls(ctx context.Context) error {
	if lc, ok := f.cluster.(*localCluster); ok {
		lc.resetCalls() // one journal for all: cleared once, not server by server
		return nil
	}
	for i, n := range f.nodes {
		if err := n.ResetCalls(ctx); err != nil {
			return fmt.Errorf("fleet: reset calls of server %d: %w", i, err)
		}
	}
	return nil
}

// OpenConns returns how many connections server i has open, on backends
// that can count them (the in-process one); the error wraps
// errors.ErrUnsupported on others (containers: Docker's port proxy holds
// connections of its own).
func (f *Fleet) OpenConns(ctx context.Context, i int) (int, error) {
	n, err := f.node("count connections of", i)
	if err != nil {
		return 0, err
	}
	c, ok := n.(driver.ConnCounter)
	if !ok {
		return 0, fmt.Errorf("fleet: count connections of server %d: %w", i, errors.ErrUnsupported)
	}
	return c.OpenConns(ctx), nil
}

// Clock returns server i's clock against this process's: the offset its
// journal's times were corrected by, and how uncertain that is. A server
// on this host's clock (in process, containers) reports a zero Clock; an
// attached server (package fleet/attach) is measured through its control
// port, by round-trip bracketing.
func (f *Fleet) Clock(ctx context.Context, i int) (Clock, error) {
	n, err := f.node("read the clock of", i)
	if err != nil {
		return Clock{}, err
	}
	c, ok := n.(driver.Clocked)
	if !ok {
		return Clock{}, nil
	}
	clk, err := c.Clock(ctx)
	if err != nil {
		return Clock{}, fmt.Errorf("fleet: read the clock of server %d: %w", i, err)
	}
	return clk, nil
}

// SetFaults gives every server the plan p.
func (f *Fleet) SetFaults(ctx context.Context, p faults.Plan) error {
	for i, n := range f.nodes {
		if err := n.SetFaults(ctx, p); err != nil {
			return fmt.Errorf("fleet: set faults of server %d: %w", i, err)
		}
	}
	return nil
}

// SetServerFaults gives server i the plan p.
func (f *Fleet) SetServerFaults(ctx context.Context, i int, p faults.Plan) error {
	return f.do(ctx, "set faults of", i, func(n driver.Node, ctx context.Context) error { return n.SetFaults(ctx, p) })
}

// ClearFaults removes every server's faults.
func (f *Fleet) ClearFaults(ctx context.Context) error { return f.SetFaults(ctx, faults.Plan{}) }

// Kill takes server i down at once: new connections are refused and calls
// in flight fail. Killing a server that is down does nothing.
func (f *Fleet) Kill(ctx context.Context, i int) error {
	return f.do(ctx, "kill", i, driver.Node.Kill)
}

// Restart brings a killed server i back and returns once it serves. On
// backends other than the in-process one its address may change: see
// Addrs.
func (f *Fleet) Restart(ctx context.Context, i int) error {
	return f.do(ctx, "restart", i, driver.Node.Restart)
}

// Pause freezes server i: while paused it accepts no connection and
// answers no call, and nothing is refused either; calls in flight wait.
// The error wraps errors.ErrUnsupported if its backend cannot.
func (f *Fleet) Pause(ctx context.Context, i int) error {
	return f.do(ctx, "pause", i, func(n driver.Node, ctx context.Context) error {
		p, ok := n.(driver.Pauser)
		if !ok {
			return errors.ErrUnsupported
		}
		return p.Pause(ctx)
	})
}

// Unpause lets a paused server i run again: it answers what waited.
func (f *Fleet) Unpause(ctx context.Context, i int) error {
	return f.do(ctx, "unpause", i, func(n driver.Node, ctx context.Context) error {
		p, ok := n.(driver.Pauser)
		if !ok {
			return errors.ErrUnsupported
		}
		return p.Unpause(ctx)
	})
}

// Disconnect cuts server i off the network: nothing reaches it until
// Reconnect. The error wraps errors.ErrUnsupported if its backend cannot.
func (f *Fleet) Disconnect(ctx context.Context, i int) error {
	return f.do(ctx, "disconnect", i, func(n driver.Node, ctx context.Context) error {
		p, ok := n.(driver.Partitioner)
		if !ok {
			return errors.ErrUnsupported
		}
		return p.Disconnect(ctx)
	})
}

// Reconnect ends server i's partition. Its address may change: see Addrs.
func (f *Fleet) Reconnect(ctx context.Context, i int) error {
	return f.do(ctx, "reconnect", i, func(n driver.Node, ctx context.Context) error {
		p, ok := n.(driver.Partitioner)
		if !ok {
			return errors.ErrUnsupported
		}
		return p.Reconnect(ctx)
	})
}

// Release sends the replies server i holds for a Hold fault (faults.Hold),
// in the order it held them, and returns once they are written: a test
// that releases server 7 and then server 3 knows 7's reply was written
// first. Replies held after Release began wait for the next one; the
// Hold rule keeps holding until the plan changes. Releasing a server that
// holds nothing does nothing. The error wraps errors.ErrUnsupported if
// its backend cannot release (every backend of this module can).
func (f *Fleet) Release(ctx context.Context, i int) error {
	return f.do(ctx, "release", i, func(n driver.Node, ctx context.Context) error {
		r, ok := n.(driver.Releaser)
		if !ok {
			return errors.ErrUnsupported
		}
		return r.Release(ctx)
	})
}

// ReleaseAll releases what every server holds (see Release), server by
// server in index order.
func (f *Fleet) ReleaseAll(ctx context.Context) error {
	for i := range f.nodes {
		if err := f.Release(ctx, i); err != nil {
			return err
		}
	}
	return nil
}

// node returns node i, or an error naming op if there is none.
func (f *Fleet) node(op string, i int) (driver.Node, error) {
	if i < 0 || i >= len(f.nodes) {
		return nil, fmt.Errorf("fleet: %s server %d: no such server (fleet has %d)", op, i, len(f.nodes))
	}
	return f.nodes[i], nil
}

// do runs fn on node i, its error wrapped with op; fn takes the node
// first so that method expressions such as driver.Node.Kill fit.
func (f *Fleet) do(ctx context.Context, op string, i int, fn func(driver.Node, context.Context) error) error {
	n, err := f.node(op, i)
	if err != nil {
		return err
	}
	if err := fn(n, ctx); err != nil {
		return fmt.Errorf("fleet: %s server %d: %w", op, i, err)
	}
	return nil
}

// Stop stops every server and returns when everything the fleet started
// (goroutines and connections; containers and networks on other backends)
// is gone, or with ctx's error if ctx ends first. Stop may be called more
// than once; a stopped fleet cannot be restarted.
func (f *Fleet) Stop(ctx context.Context) error {
	return f.cluster.Stop(ctx)
}

// Loopback reports whether host (a name or an IP address, as WithHost
// takes it) names only the loopback interface: "localhost" or an address
// in 127.0.0.0/8 or ::1. "", 0.0.0.0 and :: are every interface.
func Loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// hostPort is host:base+i, or host:0 for an ephemeral port when base is 0.
func hostPort(host string, base, i int) string {
	port := 0
	if base > 0 {
		port = base + i
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}
