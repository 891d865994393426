package container

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	dcontainer "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/rpcfleet/rpcfleet/fleet/driver"
)

// state is where a node's server is in its life. The lifecycle methods
// read it to decide what to do, and move it once Docker has done what
// they asked, through setState: the one place that changes it, and only
// along a move in legal.
//
//	from          to            by
//	running       paused        Pause
//	              disconnected  Disconnect
//	              down          Kill, Stop; Restart of a server that is down in a
//	                            running container (a crash fault), or of a
//	                            container that stopped by itself
//	paused        running       Unpause
//	              disconnected  Disconnect (*)
//	              down          Kill, Stop
//	disconnected  running       Reconnect; Unpause (*)
//	              paused        Pause (*)
//	              downCut       Kill, Stop
//	down          running       Restart
//	              downCut       Disconnect
//	              paused        Pause (**)
//	downCut       running       Restart, which reconnects it first
//	              paused        Pause (**)
//	any but removed  removed    Fleet.Stop; removed is final
//
// Staying where it is is no move, and always allowed. A move Docker
// refuses (Pause of a stopped container, Reconnect of a connected one,
// ...) returns Docker's error and moves nothing; a move the table lacks
// is a bug in this package, and setState panics.
//
// The node records what its calls did; Docker may be ahead of it:
//
// (*) Docker lets a paused container be cut off and a cut-off container
// be paused; the node records only the later of the two. Unpause of such
// a node recorded disconnected ends at running, and Reconnect of one
// recorded running (cut off, paused, unpaused) stays at running.
//
// (**) A Reconnect or Restart that fails its health check has connected
// or started the container all the same: the node stays disconnected or
// down, and Docker lets the next call repeat the move (Disconnect again)
// or pause a container the node records down.
type state int

const (
	running      state = iota // up, or down in a running container after a crash fault
	paused                    // frozen by Pause
	disconnected              // cut off the fleet's network by Disconnect
	down                      // killed or stopped
	downCut                   // killed or stopped while cut off, or cut off while down
	removed                   // by Fleet.Stop
)

func (s state) String() string {
	switch s {
	case running:
		return "running"
	case paused:
		return "paused"
	case disconnected:
		return "disconnected"
	case down:
		return "down"
	case downCut:
		return "down and disconnected"
	case removed:
		return "removed"
	}
	return fmt.Sprintf("state(%d)", int(s))
}

// legal lists, for each state, the states setState may move it to (see
// state for what makes each move).
var legal = [...][]state{
	running:      {paused, disconnected, down, removed},
	paused:       {running, disconnected, down, removed},
	disconnected: {running, paused, downCut, removed},
	down:         {running, downCut, paused, removed},
	downCut:      {running, paused, removed},
	removed:      {},
}

// isDown reports whether the server is killed or stopped.
func (s state) isDown() bool { return s == down || s == downCut }

// halted is the state a server in s is in once it is killed or stopped:
// one cut off stays cut off.
func (s state) halted() state {
	if s == disconnected || s == downCut {
		return downCut
	}
	return down
}

// setState moves the node's server to state to, or panics if legal has
// no such move (staying is none). The caller holds n.life and n.mu, so
// that a reader holding either sees the state a whole move left.
func (n *Node) setState(to state) {
	if to != n.st && !slices.Contains(legal[n.st], to) {
		panic(fmt.Sprintf("container: node %d: illegal move %v -> %v", n.index, n.st, to))
	}
	n.st = to
}

// errRemoved is the error of a call that needs the node's container
// after the fleet stopped and removed it.
var errRemoved = errors.New("removed: its fleet has stopped")

func (n *Node) removedErr() error { return fmt.Errorf("server %d: %w", n.index, errRemoved) }

// Kill reads the journal, sends SIGKILL (or, WithGracefulKill, SIGTERM
// and SIGKILL after the grace) and returns when the container has stopped:
// new connections are refused and calls in flight fail. Killing a stopped
// server does nothing; once the fleet has stopped, Kill returns an error.
func (n *Node) Kill(ctx context.Context) error {
	n.life.Lock()
	defer n.life.Unlock()
	if n.grace > 0 {
		return n.stop(ctx, n.grace)
	}
	return n.halt(ctx, func() error {
		_, err := n.cl.cli.ContainerKill(ctx, n.ID(), client.ContainerKillOptions{Signal: "KILL"})
		if isConflict(err) { // not running
			return nil
		}
		return err
	})
}

// stop stops the server gracefully (SIGTERM; SIGKILL after timeout), as
// halt does; the caller holds n.life.
func (n *Node) stop(ctx context.Context, timeout time.Duration) error {
	return n.halt(ctx, func() error { return n.ctr.Stop(ctx, &timeout) })
}

// halt takes a server that is up down: it reads the journal, ends the
// process with end, counts the server down only once end succeeded, and
// waits until the container has stopped. A server that is down already
// is left alone. The caller holds n.life.
func (n *Node) halt(ctx context.Context, end func() error) error {
	switch {
	case n.st == removed:
		return n.removedErr()
	case n.st.isDown():
		return nil
	}
	calls := n.lastJournal(ctx)
	if err := end(); err != nil {
		return err // still up: its journal stays where it is
	}
	n.mu.Lock()
	n.past = append(n.past, calls...)
	n.setState(n.st.halted())
	n.mu.Unlock()
	if err := n.waitStopped(ctx); err != nil {
		return err
	}
	n.holdPorts()
	return nil
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
// answer within 3s (cut off, say) is an error that leaves it as it
// was. The new process starts with the fleet's seed, the faults last set
// (SetFaults) or else the fleet's, call numbers from 1 and an empty
// journal (Calls keeps the old one).
func (n *Node) Restart(ctx context.Context) error {
	n.life.Lock()
	defer n.life.Unlock()
	if n.st == removed {
		return n.removedErr()
	}
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
	} else if !n.st.isDown() {
		// The container stopped by itself, or from outside the backend:
		// its server is down, its journal lost.
		n.mu.Lock()
		n.setState(n.st.halted())
		n.mu.Unlock()
	}
	if n.st == downCut {
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
	n.setState(running)
	n.mu.Unlock()
	n.pending = false // the plan is set again just below
	if n.renewal != nil {
		// A Pool's container: the new process has the command line of
		// the fleet that created it.
		r := *n.renewal
		if n.plan != nil {
			r.Faults = *n.plan
		}
		if err := n.renew(ctx, r); err != nil {
			return fmt.Errorf("server %d: restarted, but not renewed to its fleet's settings: %w", n.index, err)
		}
		return nil
	}
	if n.plan != nil {
		if err := n.control(ctx, func(cc *driver.ControlClient) error { return cc.SetFaults(ctx, *n.plan) }); err != nil {
			return fmt.Errorf("server %d: restarted, but its faults are not set: %w", n.index, err)
		}
	}
	return nil
}

// start starts a stopped container, again if its new host port is taken.
// The new process reports the fleet id of its command line.
func (n *Node) start(ctx context.Context) error {
	n.mu.Lock()
	n.fleetID = n.born
	n.mu.Unlock()
	for try := 1; ; try++ {
		err := n.ctr.Start(ctx) // runs the health check, which reads the new ports
		if !portTaken(err) || try == portTries {
			if err != nil || n.renewal == nil {
				return err
			}
			// A Pool's container: the health check it was created with
			// belongs to the node that created it, so the node that
			// steers it now checks it again, and learns its ports.
			wctx, cancel := context.WithTimeout(ctx, n.timeout)
			defer cancel()
			return healthy{n: n}.WaitUntilReady(wctx, n.ctr)
		}
	}
}

// probeTimeout bounds a control call to a server that should answer at
// once: one that does not is frozen or cut off. A healthy server answers
// in milliseconds; the bound leaves room for a loaded machine (at 1s, a
// busy CI host could take a live server for a frozen one).
const probeTimeout = 3 * time.Second

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
	if n.st == removed {
		return n.removedErr()
	}
	if _, err := n.cl.cli.ContainerPause(ctx, n.ID(), client.ContainerPauseOptions{}); err != nil {
		return err
	}
	n.mu.Lock()
	n.setState(paused)
	n.mu.Unlock()
	return nil
}

// Unpause lets a paused container run again.
func (n *Node) Unpause(ctx context.Context) error {
	n.life.Lock()
	defer n.life.Unlock()
	if n.st == removed {
		return n.removedErr()
	}
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
	if n.st == removed {
		return n.removedErr()
	}
	if _, err := n.cl.cli.NetworkDisconnect(ctx, n.cl.net.ID, client.NetworkDisconnectOptions{Container: n.ID()}); err != nil {
		return err
	}
	n.holdPorts()
	n.mu.Lock()
	if n.st.isDown() {
		n.setState(downCut) // Restart reconnects it first
	} else {
		n.setState(disconnected)
	}
	n.mu.Unlock()
	return nil
}

// Reconnect attaches the container to the fleet's network again and
// returns once it passes its health check, on new host ports (see Addr).
// A server that is down (killed or stopped, cut off or not) is refused at
// once, as in process: Restart brings it back, on the fleet's network.
func (n *Node) Reconnect(ctx context.Context) error {
	n.life.Lock()
	defer n.life.Unlock()
	if n.st == removed {
		return n.removedErr()
	}
	if n.st.isDown() {
		return fmt.Errorf("server %d: it is down: Restart it (which reconnects it if it was cut off)", n.index)
	}
	if _, err := n.cl.cli.NetworkConnect(ctx, n.cl.net.ID, client.NetworkConnectOptions{Container: n.ID()}); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, n.timeout)
	defer cancel()
	if err := (healthy{n: n}).WaitUntilReady(ctx, n.ctr); err != nil {
		return err
	}
	n.releasePorts()
	return n.back(ctx)
}

// back ends a pause or a partition: a plan set meanwhile is sent now.
// The caller holds n.life.
func (n *Node) back(ctx context.Context) error {
	n.mu.Lock()
	n.setState(running)
	n.mu.Unlock()
	if !n.pending {
		return nil
	}
	n.pending = false
	if err := n.control(ctx, func(cc *driver.ControlClient) error { return cc.SetFaults(ctx, *n.plan) }); err != nil {
		return fmt.Errorf("fleet/container: server %d: back, but the faults set meanwhile are not: %w", n.index, err)
	}
	return nil
}
