package container

import (
	"context"
	"fmt"

	"github.com/rpcfleet/rpcfleet/fleet/driver"
)

// ResetCalls forgets the calls the server received, those of its earlier
// processes included, and restarts its call counts. A server that is down
// has only the earlier processes' calls to forget; a paused or cut-off
// one cannot answer, and is an error.
func (n *Node) ResetCalls(ctx context.Context) error {
	n.life.Lock()
	defer n.life.Unlock()
	n.mu.Lock()
	st := n.st
	n.mu.Unlock()
	switch {
	case st == removed:
		return n.removedErr()
	case st != running && !st.isDown():
		return fmt.Errorf("server %d is %v: its journal is out of reach", n.index, st)
	case !st.isDown():
		if err := n.control(ctx, func(c *driver.ControlClient) error { return c.Reset(ctx) }); err != nil {
			return err // nothing forgotten
		}
	}
	n.mu.Lock()
	n.past = nil
	n.mu.Unlock()
	return nil
}
