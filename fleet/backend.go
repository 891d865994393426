package fleet

import (
	"context"
	"fmt"

	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet/driver"
	"github.com/rpcfleet/rpcfleet/internal/memnet"
)

// InProcess returns the default backend: servers in this process, on
// loopback, sharing one journal.
func InProcess() driver.Backend { return inProcess{} }

type inProcess struct{}

// localCluster is the in-process backend's cluster.
type localCluster struct {
	servers []*server
	nodes   []driver.Node
	journal *journal
	mem     *memnet.Network // WithMemory's network, else nil
}

var _ driver.Cluster = (*localCluster)(nil)

func (c *localCluster) Nodes() []driver.Node { return c.nodes }

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

// resetCalls empties the journal the servers share and restarts every
// server's call counts: what each node's ResetCalls does, in time linear
// in the journal instead of servers times journal.
func (c *localCluster) resetCalls() {
	c.journal.Reset()
	for _, s := range c.servers {
		if s != nil {
			s.eng.Reset()
		}
	}
}

// localNode adapts a *server to driver.Node.
type localNode struct{ s *server }

var _ driver.Node = localNode{}

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

func (n localNode) Calls(context.Context) ([]driver.Call, error) {
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

var _ driver.ConnCounter = localNode{}

var (
	_ driver.Pauser      = localNode{}
	_ driver.Partitioner = localNode{}
	_ driver.Releaser    = localNode{}
)

func (n localNode) Release(context.Context) error { return n.s.Release() }

func (n localNode) Pause(context.Context) error      { return n.s.Pause() }
func (n localNode) Unpause(context.Context) error    { return n.s.Unpause() }
func (n localNode) Disconnect(context.Context) error { return n.s.Disconnect() }
func (n localNode) Reconnect(context.Context) error  { return n.s.Reconnect() }
