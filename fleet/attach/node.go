package attach

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet/driver"
)

// node is one attached server. Its methods are safe for concurrent use.
type node struct {
	cl    *cluster
	index int

	// life serialises the lifecycle methods and SetFaults: each starts
	// from the state the one before left.
	life sync.Mutex
	plan faults.Plan // under life: set again in a process that replaced a killed one
	hole bool        // under life: a plan with a blackhole was set (see WithSettle)

	mu          sync.Mutex // guards the fields below
	ep          Endpoint   // where the current process is reached
	addr        string     // its data address
	since       time.Time  // its Health.Since: which process it is
	sharedClock bool       // its clock is this process's
	clock       driver.Clock
	clockAt     time.Time     // when clock was estimated
	past        []driver.Call // journals of killed processes, corrected
	killed      bool          // down after Kill, until Restart
	killedSince time.Time     // Since of the process Kill took down
}

var (
	_ driver.Node        = (*node)(nil)
	_ driver.Pauser      = (*node)(nil)
	_ driver.Partitioner = (*node)(nil)
	_ driver.Clocked     = (*node)(nil)
	_ driver.Releaser    = (*node)(nil)
)

// clockRefresh is how old a clock estimate may grow before Calls measures
// it again.
const clockRefresh = 10 * time.Second

// adopt makes f the node's current process.
func (n *node) adopt(f found) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.ep, n.since = f.ep, f.h.Since
	n.addr = dataAddr(f.ep, f.h)
	n.sharedClock = f.h.ClockID != "" && f.h.ClockID == n.cl.localClock
	n.clock, n.clockAt = driver.Clock{}, time.Time{}
}

// dataAddr is where clients reach the data port of the server found at
// ep: ep.Data, or the port Health reports on the control port's host.
func dataAddr(ep Endpoint, h driver.Health) string {
	if ep.Data != "" {
		return ep.Data
	}
	host, _, err := net.SplitHostPort(ep.Control)
	_, port, err2 := net.SplitHostPort(h.Addr)
	if err != nil || err2 != nil {
		return h.Addr
	}
	return net.JoinHostPort(host, port)
}

func (n *node) Addr() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.addr
}

// ControlAddr returns the address of the server's control port.
func (n *node) ControlAddr() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.ep.Control
}

// errReplaced is the error of a control call that found another process
// than the node's behind its control address.
var errReplaced = errors.New("another process answers there")

// dial connects to the node's control port and checks that the process
// there is the node's: its index, the fleet's id, the same Since.
func (n *node) dial(ctx context.Context) (*driver.ControlClient, driver.Health, error) {
	n.mu.Lock()
	ctl, since := n.ep.Control, n.since
	n.mu.Unlock()
	cc, err := n.cl.dial(ctx, ctl)
	if err != nil {
		return nil, driver.Health{}, err
	}
	h, err := cc.Health(ctx)
	switch {
	case err != nil:
	case h.Index != n.index || h.FleetID != n.cl.fleetID:
		err = fmt.Errorf("control %s answers as server %d of fleet %q, not server %d of fleet %q: %w", ctl, h.Index, h.FleetID, n.index, n.cl.fleetID, errReplaced)
	case !h.Since.Equal(since):
		err = fmt.Errorf("control %s: the server's process was restarted (since %v, not %v) behind the fleet's back, and its journal lost: %w",
			ctl, h.Since.Format(time.RFC3339Nano), since.Format(time.RFC3339Nano), errReplaced)
	}
	if err != nil {
		cc.Close()
		return nil, driver.Health{}, err
	}
	return cc, h, nil
}

// control runs fn on a fresh connection to the node's server.
func (n *node) control(ctx context.Context, fn func(*driver.ControlClient, driver.Health) error) error {
	cc, h, err := n.dial(ctx)
	if err != nil {
		return err
	}
	defer cc.Close()
	return fn(cc, h)
}

// up brings the server behind cc from the state h reports to "up".
func up(ctx context.Context, cc *driver.ControlClient, h driver.Health) error {
	switch h.State {
	case "paused":
		return cc.Unpause(ctx)
	case "disconnected":
		return cc.Reconnect(ctx)
	case "down":
		return cc.Restart(ctx)
	}
	return nil
}

// takeOver makes the server a fresh member of the fleet: serving, its
// decisions seeded from the fleet's seed and size, its journal empty, the
// fleet's plan set, its clock measured.
func (n *node) takeOver(ctx context.Context) error {
	return n.control(ctx, func(cc *driver.ControlClient, h driver.Health) error {
		if err := up(ctx, cc, h); err != nil {
			return err
		}
		if err := cc.Reseed(ctx, n.cl.cfg.Seed, n.cl.size); err != nil {
			return err
		}
		if err := cc.Reset(ctx); err != nil {
			return err
		}
		if err := cc.SetFaults(ctx, n.plan); err != nil {
			return err
		}
		return n.measure(ctx, cc)
	})
}

// measure estimates the server's clock offset, unless it shares this
// process's clock.
func (n *node) measure(ctx context.Context, cc *driver.ControlClient) error {
	n.mu.Lock()
	shared := n.sharedClock
	n.mu.Unlock()
	if shared {
		return nil
	}
	c, err := estimate(ctx, cc)
	if err != nil {
		return fmt.Errorf("measure its clock: %w", err)
	}
	n.mu.Lock()
	n.clock, n.clockAt = c, time.Now()
	n.mu.Unlock()
	return nil
}

// Clock measures the server's clock afresh; a killed server's is the last
// measured. A server on this process's clock reports a zero Clock.
func (n *node) Clock(ctx context.Context) (driver.Clock, error) {
	if !n.isKilled() {
		if err := n.control(ctx, func(cc *driver.ControlClient, _ driver.Health) error { return n.measure(ctx, cc) }); err != nil {
			return driver.Clock{}, err
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.clock, nil
}

// SetFaults sets the server's plan; the node keeps it, and gives it to a
// process that replaces a killed one. Set while the server is killed, it
// takes effect when Restart brings it back.
func (n *node) SetFaults(ctx context.Context, p faults.Plan) error {
	if _, err := faults.Parse(p.String()); err != nil {
		return err
	}
	p.Rules = slices.Clone(p.Rules)
	n.life.Lock()
	defer n.life.Unlock()
	n.hole = n.hole || hasHole(p)
	if !n.isKilled() {
		if err := n.control(ctx, func(cc *driver.ControlClient, _ driver.Health) error { return cc.SetFaults(ctx, p) }); err != nil {
			return err
		}
	}
	n.plan = p
	return nil
}

// hasHole reports whether p has a blackhole rule.
func hasHole(p faults.Plan) bool {
	return slices.ContainsFunc(p.Rules, func(r faults.Rule) bool { _, ok := r.Fault.(faults.Blackhole); return ok })
}

// holed reports whether a plan with a blackhole was ever set on the node.
func (n *node) holed() bool {
	n.life.Lock()
	defer n.life.Unlock()
	return n.hole || hasHole(n.plan)
}

// Calls returns the journals of the server's killed processes, then the
// running one's, their times corrected to this process's clock.
func (n *node) Calls(ctx context.Context) ([]driver.Call, error) {
	n.mu.Lock()
	calls, killed := slices.Clone(n.past), n.killed
	n.mu.Unlock()
	if killed {
		return calls, nil
	}
	live, err := n.journal(ctx)
	if err != nil {
		return nil, err
	}
	return append(calls, live...), nil
}

// journal reads the running process's journal, corrected by its clock,
// which it measures again when the last estimate is old.
func (n *node) journal(ctx context.Context) ([]driver.Call, error) {
	var calls []driver.Call
	err := n.control(ctx, func(cc *driver.ControlClient, _ driver.Health) error {
		n.mu.Lock()
		stale := !n.sharedClock && time.Since(n.clockAt) > clockRefresh
		n.mu.Unlock()
		if stale {
			if err := n.measure(ctx, cc); err != nil {
				return err
			}
		}
		var err error
		calls, err = cc.Journal(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	correct(calls, n.clock)
	for i := range calls {
		calls[i].Addr = n.addr
	}
	return calls, nil
}

// Kill reads the server's journal, then has it go down at once through
// its control port (an rpcfleet serve process exits with
// serve.ExitKilled), and returns once the process that served is gone or
// down.
func (n *node) Kill(ctx context.Context) error {
	n.life.Lock()
	defer n.life.Unlock()
	if n.isKilled() {
		return nil
	}
	last, err := n.lastJournal(ctx)
	if err != nil {
		return err
	}
	cc, h, err := n.dial(ctx)
	if err != nil {
		return err
	}
	// The reply may not come: the process exits as it writes it.
	kerr := cc.Kill(ctx)
	cc.Close()
	if kerr != nil && ctx.Err() != nil {
		return kerr
	}
	if err := n.waitGone(ctx, h.KillExits); err != nil {
		return fmt.Errorf("kill: %w (the kill call: %v)", err, kerr)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.past = append(n.past, last...)
	n.killed, n.killedSince = true, n.since
	return nil
}

// lastJournal reads the running process's journal before a Kill, within
// a second.
func (n *node) lastJournal(ctx context.Context) ([]driver.Call, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	calls, err := n.journal(ctx)
	if err != nil {
		return nil, fmt.Errorf("read its journal before the kill: %w", err)
	}
	return calls, nil
}

// waitGone returns once another process answers in the node's place, or
// the node's process no longer answers and its data port refuses dials
// (a port proxy, such as Docker's for a task's published port, may
// accept them a while after the process exited), or, if it stays up when
// killed (not exits), once it reports itself down.
func (n *node) waitGone(ctx context.Context, exits bool) error {
	for {
		pctx, cancel := context.WithTimeout(ctx, probeTimeout)
		cc, h, err := n.dial(pctx)
		cancel()
		switch {
		case errors.Is(err, errReplaced):
			return nil
		case err != nil && ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			if refused(ctx, n.Addr()) {
				return nil
			}
		default:
			cc.Close()
			if h.State == "down" && !exits {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the server still serves: %w", ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// refused reports whether a dial to addr is refused, or cannot connect
// within a probe.
func refused(ctx context.Context, addr string) bool {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return true
	}
	c.Close()
	return false
}

// Restart brings the server back. After a Kill it waits until a server
// of the node's index and fleet answers as a process other than the
// killed one (looking the servers up again: a replaced container or pod
// has a new address), or restarts the killed one through its control
// port if its process stayed up; then it gives it the fleet's seed and
// plan. A server that is down in its process (a crash fault) is
// restarted through its control port.
func (n *node) Restart(ctx context.Context) error {
	n.life.Lock()
	defer n.life.Unlock()
	n.mu.Lock()
	killed, old := n.killed, n.killedSince
	n.mu.Unlock()
	if !killed {
		return n.control(ctx, func(cc *driver.ControlClient, _ driver.Health) error { return cc.Restart(ctx) })
	}
	for {
		f, ok, err := n.findBack(ctx, old)
		if err != nil {
			return err
		}
		if ok {
			return n.comeBack(ctx, f, old)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("restart: the server did not come back (is its orchestrator restarting it?): %w", ctx.Err())
		case <-time.After(n.cl.b.poll):
		}
	}
}

// findBack looks for the node's server after a kill: first at its last
// control address, then among the servers the source finds now, other
// than the addresses of the fleet's other nodes. ok is false while none
// answers.
func (n *node) findBack(ctx context.Context, old time.Time) (f found, ok bool, err error) {
	n.mu.Lock()
	ep := n.ep
	n.mu.Unlock()
	pctx, cancel := context.WithTimeout(ctx, probeTimeout)
	h, err := n.cl.health(pctx, ep.Control)
	cancel()
	if err == nil && n.back(h, old) {
		return found{ep: ep, h: h}, true, nil
	}
	skip := map[string]bool{}
	for _, o := range n.cl.nodes {
		if o != n {
			skip[o.ControlAddr()] = true
		}
	}
	fs, _ := n.cl.probeAll(ctx, skip)
	for _, f := range fs {
		if n.back(f.h, old) {
			return f, true, nil
		}
	}
	return found{}, false, ctx.Err()
}

// back reports whether h is the Health of the node's server come back
// after a kill of the process that began at old: a new process, or the
// old one if it stays up when killed.
func (n *node) back(h driver.Health, old time.Time) bool {
	if h.Index != n.index || h.FleetID != n.cl.fleetID {
		return false
	}
	return !h.Since.Equal(old) || !h.KillExits
}

// comeBack attaches the node to f, the server found after a kill: the
// killed process itself, still up and down, is restarted; a new process
// gets the fleet's seed and the node's plan.
func (n *node) comeBack(ctx context.Context, f found, old time.Time) error {
	n.adopt(f)
	err := n.control(ctx, func(cc *driver.ControlClient, h driver.Health) error {
		if h.Since.Equal(old) {
			if err := up(ctx, cc, h); err != nil {
				return err
			}
		} else if err := cc.Reseed(ctx, n.cl.cfg.Seed, n.cl.size); err != nil {
			return err
		}
		if err := cc.SetFaults(ctx, n.plan); err != nil {
			return err
		}
		return n.measure(ctx, cc)
	})
	if err != nil {
		return fmt.Errorf("restart: %w", err)
	}
	n.mu.Lock()
	n.killed = false
	n.mu.Unlock()
	return nil
}

// ResetCalls forgets the server's journal, and the kept journals of its
// killed processes.
func (n *node) ResetCalls(ctx context.Context) error {
	n.life.Lock()
	defer n.life.Unlock()
	if !n.isKilled() {
		if err := n.control(ctx, func(cc *driver.ControlClient, _ driver.Health) error { return cc.Reset(ctx) }); err != nil {
			return err
		}
	}
	n.mu.Lock()
	n.past = nil
	n.mu.Unlock()
	return nil
}

// isKilled reports whether Kill took the server down and no Restart has
// brought it back.
func (n *node) isKilled() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.killed
}

// lifecycle runs one of the control port's lifecycle moves.
func (n *node) lifecycle(ctx context.Context, move func(*driver.ControlClient, context.Context) error) error {
	n.life.Lock()
	defer n.life.Unlock()
	if n.isKilled() {
		return errors.New("it is killed: Restart it")
	}
	return n.control(ctx, func(cc *driver.ControlClient, _ driver.Health) error { return move(cc, ctx) })
}

// Pause freezes the server inside its process: no accept, read or write
// on its data port until Unpause; its control port answers.
func (n *node) Pause(ctx context.Context) error {
	return n.lifecycle(ctx, (*driver.ControlClient).Pause)
}

// Unpause lets a paused server go on.
func (n *node) Unpause(ctx context.Context) error {
	return n.lifecycle(ctx, (*driver.ControlClient).Unpause)
}

// Disconnect refuses dials to the server's data port and cuts its
// connections, holding the port, until Reconnect; its control port
// answers.
func (n *node) Disconnect(ctx context.Context) error {
	return n.lifecycle(ctx, (*driver.ControlClient).Disconnect)
}

// Reconnect ends a Disconnect; the address stays.
func (n *node) Reconnect(ctx context.Context) error {
	return n.lifecycle(ctx, (*driver.ControlClient).Reconnect)
}

// Release sends the replies the server holds for a Hold fault, through
// its control port; a killed server holds none.
func (n *node) Release(ctx context.Context) error {
	n.life.Lock()
	defer n.life.Unlock()
	if n.isKilled() {
		return nil
	}
	return n.control(ctx, func(cc *driver.ControlClient, _ driver.Health) error { return cc.Release(ctx) })
}

// detach leaves the server serving with no faults, if it answers.
func (n *node) detach(ctx context.Context) error {
	n.life.Lock()
	defer n.life.Unlock()
	if n.isKilled() {
		return nil // its orchestrator brings it back
	}
	cc, h, err := n.dial(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		return nil // gone: left to its orchestrator
	}
	defer cc.Close()
	if err := up(ctx, cc, h); err != nil {
		return err
	}
	return cc.ClearFaults(ctx)
}
