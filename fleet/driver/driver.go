package driver

import (
	"context"

	"github.com/rpcfleet/rpcfleet/faults"
)

// Backend runs the servers of a fleet. fleet.Start uses the in-process
// backend (fleet.InProcess) unless fleet.WithBackend names another, such
// as the Docker backend of package fleet/container. A Backend may start
// any number of fleets.
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
	// Call numbers, IDs and ReceivedAt/RepliedAt are the node's own;
	// fleet.Fleet merges them across nodes.
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

// Clocked is a Node whose server may keep a clock other than this
// process's (another host): Clock estimates its offset, and the node's
// Calls are corrected by it, with the Uncertainty stated per call.
type Clocked interface {
	// Clock returns the latest estimate of the server's clock offset.
	Clock(ctx context.Context) (Clock, error)
}

// ConnCounter is a Node that can count the connections its server has
// open (see fleet.Fleet.OpenConns).
type ConnCounter interface {
	// OpenConns returns how many connections the server has open.
	OpenConns(ctx context.Context) int
}

// Releaser is a Node that can send the replies its server keeps for a
// Hold fault (see fleet.Fleet.Release).
type Releaser interface {
	// Release sends every reply the server holds, in the order they were
	// held, and returns once they are written (or lost, if their
	// connections closed meanwhile). Replies held after it began wait
	// for the next Release.
	Release(ctx context.Context) error
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
