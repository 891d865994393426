package container

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/testcontainers/testcontainers-go"

	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet/driver"
	"github.com/rpcfleet/rpcfleet/internal/porthold"
)

// Node is one server of a container fleet. Its methods are safe for
// concurrent use. Once its fleet has stopped they return errors: the
// container is removed, or a Pool keeps it for another fleet.
type Node struct {
	cl      *cluster
	index   int
	timeout time.Duration
	grace   time.Duration // WithGracefulKill
	ctr     *testcontainers.DockerContainer

	// life serialises the lifecycle methods (Kill, Stop, Restart, Pause,
	// Unpause, Disconnect, Reconnect), as an in-process server's does:
	// each one starts from the state the one before left.
	life sync.Mutex

	mu      sync.Mutex       // guards the fields below
	st      state            // moved by setState under life and mu: read it under either
	addr    string           // data address on 127.0.0.1
	ctlAddr string           // control address on 127.0.0.1
	fleetID string           // the fleet id the running process reports (Health)
	past    []driver.Call    // the journals of earlier processes
	holds   []*porthold.Hold // the ports of a stopped or cut-off container: Addr and ControlAddr refuse dials

	// Under life: the last SetFaults, which Restart sets again in the new
	// process, and whether a plan set while the server was paused or
	// disconnected (SetFaults does not wait on a server that cannot
	// answer) is still to be sent when it comes back.
	plan    *faults.Plan
	pending bool

	// Under life: whether a plan with a blackhole was set on the server
	// (see Pool's recycle).
	holed bool

	// Under life, for a node of a Pool's fleet: its container's command
	// line is that of the fleet that created it, whose id is born, so a
	// new process of it (Restart) is renewed to this fleet's settings.
	born    string
	renewal *driver.Renewal
}

var (
	_ driver.Node        = (*Node)(nil)
	_ driver.Pauser      = (*Node)(nil)
	_ driver.Partitioner = (*Node)(nil)
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
func (n *Node) dial(ctx context.Context, ctlAddr string) (*driver.ControlClient, driver.Health, error) {
	cc, err := driver.DialControl(ctx, ctlAddr, driver.WithToken(n.cl.token))
	if err != nil {
		return nil, driver.Health{}, err
	}
	h, err := cc.Health(ctx)
	n.mu.Lock()
	id := n.fleetID
	n.mu.Unlock()
	if err == nil && (h.Index != n.index || h.FleetID != id) {
		err = fmt.Errorf("server %d: control %s answers as server %d of fleet %q, not of fleet %q: %w", n.index, ctlAddr, h.Index, h.FleetID, id, errStale)
	}
	if err != nil {
		cc.Close()
		return nil, driver.Health{}, err
	}
	return cc, h, nil
}

// control runs fn on a fresh connection to the node's control port, once
// dial has checked that it reaches the node's server.
func (n *Node) control(ctx context.Context, fn func(*driver.ControlClient) error) error {
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
// Once the fleet has stopped, SetFaults returns an error.
func (n *Node) SetFaults(ctx context.Context, p faults.Plan) error {
	n.life.Lock()
	defer n.life.Unlock()
	p.Rules = slices.Clone(p.Rules)
	n.holed = n.holed || hasBlackhole(p)
	switch n.st {
	case removed:
		return n.removedErr()
	case down, downCut:
		n.plan = &p
		return nil
	case paused, disconnected:
		n.plan, n.pending = &p, true
		return nil
	}
	if err := n.control(ctx, func(cc *driver.ControlClient) error { return cc.SetFaults(ctx, p) }); err != nil {
		return err
	}
	n.plan = &p
	return nil
}

// Calls returns the server's journal: the calls of its earlier lives, as
// read just before each Kill, Stop or Restart, then those of the running
// process, read through its control port. Each call's Addr is the
// address the server had when the call was read. While the server is
// stopped, Calls returns the earlier lives' calls only, and dials nothing;
// once the fleet has stopped, it returns an error.
func (n *Node) Calls(ctx context.Context) ([]driver.Call, error) {
	n.mu.Lock()
	calls, st := slices.Clone(n.past), n.st
	n.mu.Unlock()
	switch st {
	case removed:
		return nil, n.removedErr()
	case down, downCut:
		return calls, nil
	}
	live, err := n.journal(ctx)
	if err != nil {
		return nil, err
	}
	return append(calls, live...), nil
}

// journal reads the running process's journal.
func (n *Node) journal(ctx context.Context) ([]driver.Call, error) {
	var calls []driver.Call
	err := n.control(ctx, func(cc *driver.ControlClient) (err error) {
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
// read within probeTimeout, before the process ends: a frozen or cut-off
// server loses its journal.
func (n *Node) lastJournal(ctx context.Context) []driver.Call {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	calls, _ := n.journal(ctx)
	return calls
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
	for _, h := range []*porthold.Hold{h1, h2} {
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
		h.Release()
	}
	n.holds = nil
}

// hasBlackhole reports whether p has a blackhole rule.
func hasBlackhole(p faults.Plan) bool {
	return slices.ContainsFunc(p.Rules, func(r faults.Rule) bool {
		_, ok := r.Fault.(faults.Blackhole)
		return ok
	})
}
