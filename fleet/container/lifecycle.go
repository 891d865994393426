package container

import (
	"context"
	"fmt"
	"time"

	dcontainer "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/rpcfleet/rpcfleet/fleet"
)

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

// start starts a stopped container, again if its new host port is taken.
func (n *Node) start(ctx context.Context) error {
	for try := 1; ; try++ {
		err := n.ctr.Start(ctx) // runs the health check, which reads the new ports
		if !portTaken(err) || try == portTries {
			return err
		}
	}
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
