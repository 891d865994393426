package container

import (
	"context"
	"fmt"

	"github.com/rpcfleet/rpcfleet/fleet/driver"
)

var _ driver.Releaser = (*Node)(nil)

// Release sends the replies the server holds for a Hold fault, through
// its control port, and returns once they are written. A server that is
// down holds nothing (its connections closed with its process); a paused
// or cut-off one cannot answer, and is an error.
func (n *Node) Release(ctx context.Context) error {
	n.life.Lock()
	defer n.life.Unlock()
	n.mu.Lock()
	st := n.st
	n.mu.Unlock()
	switch {
	case st == removed:
		return n.removedErr()
	case st.isDown():
		return nil
	case st != running:
		return fmt.Errorf("server %d is %v: it cannot send what it holds", n.index, st)
	}
	return n.control(ctx, func(c *driver.ControlClient) error { return c.Release(ctx) })
}
