package container

import (
	"context"

	"github.com/rpcfleet/rpcfleet/fleet"
)

// ResetCalls forgets the calls the server received, those of its earlier
// processes included, and restarts its call counts. A server that is down
// has only the earlier processes' calls to forget.
func (n *Node) ResetCalls(ctx context.Context) error {
	n.mu.Lock()
	n.past = nil
	down := n.down
	n.mu.Unlock()
	if down {
		return nil
	}
	return n.control(ctx, func(c *fleet.ControlClient) error { return c.Reset(ctx) })
}
