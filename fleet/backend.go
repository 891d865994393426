package fleet

import (
	"context"
	"fmt"

	"github.com/rpcfleet/rpcfleet/faults"
)

// Backend runs the servers of a fleet. Start uses the in-process backend
// unless WithBackend names another, such as the Docker backend of package
// fleet/container. A Backend may start any number of fleets.
type Backend interface {
	// Start starts cfg.Servers servers and returns them once every one
	// serves. On error it leaves nothing running.
	Start(ctx context.Context, cfg Config) (Cluster, error)
}

// Cluster is the running servers of one fleet.
type Cluster interface {
	// Nodes returns the servers in index order. It returns the same
	// slice every time; its length is cfg.Servers.
	Nodes() []Node
	// Stop stops every server and returns when everything the backend
	// started for the cluster is gone, or with ctx's error if ctx ends
	// first. Stop may be called more than once.
	Stop(ctx context.Context) error
}

// Node is one server of a cluster. Its methods are safe for concurrent use.
// Abilities only some backends have are separate interfaces (Pauser,
// Partitioner), found by type assertion.
type Node interface {
	// Addr returns the server's data address on 127.0.0.1. It may change
	// when the server restarts.
	Addr() string
	// SetFaults replaces the server's fault plan.
	SetFaults(ctx context.Context, p faults.Plan) error
	// Calls returns the calls the server received, in the order received.
	// Call numbers, IDs and ReceivedAt/RepliedAt are the node's own; Fleet
	// merges them across nodes.
	Calls(ctx context.Context) ([]Call, error)
	// Kill takes the server down at once: new connections are refused and
	// calls in flight fail. Killing a server that is down does nothing.
	Kill(ctx context.Context) error
	// Restart brings a killed server back and returns once it serves.
	Restart(ctx context.Context) error
	// ResetCalls forgets the calls the server received and restarts its
	// call counts.
	ResetCalls(ctx context.Context) error
}

// ConnCounter is a Node that can count the connections its server has
// open (see Fleet.OpenConns).
type ConnCounter interface {
	OpenConns(ctx context.Context) int
}

// Pauser is a Node that can be frozen: while paused it accepts no
// connection and answers no call, and nothing is refused either.
type Pauser interface {
	// Pause freezes the server; calls in flight wait with it.
	Pause(ctx context.Context) error
	// Unpause thaws a paused server, which then answers what waited.
	Unpause(ctx context.Context) error
}

// Partitioner is a Node that can be cut off from the network and
// reconnected: while disconnected nothing reaches it.
type Partitioner interface {
	// Disconnect cuts the server off from the fleet's network.
	Disconnect(ctx context.Context) error
	// Reconnect joins it again and returns once it serves; its address
	// may change (see Node.Addr).
	Reconnect(ctx context.Context) error
}

// InProcess returns the default backend: servers in this process, on
// loopback, sharing one journal.
func InProcess() Backend { return inProcess{} }

type inProcess struct{}

// localCluster is the in-process backend's cluster.
type localCluster struct {
	servers []*Server
	nodes   []Node
	journal *Journal
}

var _ Cluster = (*localCluster)(nil)

func (c *localCluster) Nodes() []Node { return c.nodes }

func (c *localCluster) Stop(ctx context.Context) error {
	for _, s := range c.servers {
		if s != nil {
			s.down(true)
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, s := range c.servers {
			if s != nil {
				s.wait()
			}
		}
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("fleet: stop: %w", ctx.Err())
	}
}

// localNode adapts a *Server to Node.
type localNode struct{ s *Server }

var _ Node = localNode{}

func (n localNode) Addr() string { return n.s.Addr() }

func (n localNode) SetFaults(_ context.Context, p faults.Plan) error {
	if err := checkPlan(p); err != nil {
		return err
	}
	n.s.SetFaults(p)
	return nil
}

// checkPlan holds a plan built in code to what faults.Parse accepts, as a
// server behind a control port does: valid settings, and no rule that an
// earlier one always hides.
func checkPlan(p faults.Plan) error {
	_, err := faults.Parse(p.String())
	return err
}

func (n localNode) Calls(context.Context) ([]Call, error) {
	return n.s.journal.Server(n.s.index), nil
}

func (n localNode) Kill(context.Context) error {
	n.s.Kill()
	return nil
}

func (n localNode) Restart(context.Context) error { return n.s.Restart() }

func (n localNode) ResetCalls(context.Context) error {
	n.s.resetCalls()
	return nil
}

func (n localNode) OpenConns(context.Context) int { return n.s.OpenConns() }

func (n localNode) ControlAddr() string { return n.s.ControlAddr() }

var _ ConnCounter = localNode{}

var (
	_ Pauser      = localNode{}
	_ Partitioner = localNode{}
)

func (n localNode) Pause(context.Context) error      { return n.s.Pause() }
func (n localNode) Unpause(context.Context) error    { return n.s.Unpause() }
func (n localNode) Disconnect(context.Context) error { return n.s.Disconnect() }
func (n localNode) Reconnect(context.Context) error  { return n.s.Reconnect() }
