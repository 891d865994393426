package container

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"

	"github.com/rpcfleet/rpcfleet/fleet/driver"
	"github.com/rpcfleet/rpcfleet/internal/parallel"
)

// cluster is a fleet of containers.
type cluster struct {
	cli      *testcontainers.DockerClient
	id       string                        // the fleet's label value
	token    string                        // every server's control token
	net      *testcontainers.DockerNetwork // nil until created
	parallel int
	nodes    []*Node // a nil or container-less node failed to start
	fnodes   []driver.Node

	// A Pool's fleet: Stop gives the pool its containers back, unless
	// discard (a Start that failed) or the pool has closed.
	pool    *Pool
	limit   int // the fleet's journal limit, part of the pool's key
	discard bool

	mu      sync.Mutex // serialises Stop
	stopped bool
}

var _ driver.Cluster = (*cluster)(nil)

func (c *cluster) Nodes() []driver.Node { return c.fnodes }

// ready makes Nodes return the nodes, once every one has started.
func (c *cluster) ready() {
	c.fnodes = make([]driver.Node, len(c.nodes))
	for i, n := range c.nodes {
		c.fnodes[i] = n
	}
}

// each runs fn(i) for every node, at most c.parallel at once, and joins
// the errors.
func (c *cluster) each(fn func(i int) error) error {
	return parallel.Each(len(c.nodes), c.parallel, fn)
}

// Stop removes every container (SIGKILL, then remove) and the network, and
// closes the Docker client. Beyond the containers and the network it
// knows, it removes every one labelled with the fleet's id: a request that
// ctx interrupted may still have created one. A Pool's fleet gives the
// pool back the containers it can keep (see Pool), removes the others,
// and leaves the network, which is the pool's.
func (c *cluster) Stop(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return nil
	}
	err := c.each(func(i int) error {
		n := c.nodes[i]
		if n == nil {
			return nil
		}
		// After a Kill or Disconnect in progress, which may hold ports.
		n.life.Lock()
		defer n.life.Unlock()
		if n.ctr == nil || n.st == removed {
			return nil
		}
		if c.pool != nil && !c.discard && c.pool.keep(ctx, n) {
			return nil
		}
		if err := c.removeContainer(ctx, n.ctr.GetContainerID()); err != nil {
			return fmt.Errorf("remove server %d: %w", n.index, err)
		}
		n.mu.Lock()
		n.setState(removed)
		n.mu.Unlock()
		n.releasePorts()
		return nil
	})
	if err == nil && c.pool == nil {
		err = c.removeLabelled(ctx)
	}
	if err != nil {
		return fmt.Errorf("fleet/container: stop: %w", err)
	}
	c.stopped = true
	return c.cli.Close()
}

func (c *cluster) removeContainer(ctx context.Context, id string) error {
	_, err := c.cli.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
	if isNotFound(err) {
		return nil
	}
	return err
}

// removeLabelled removes every container, one at a time, then every
// network, that carries the fleet's label. One at a time: containers of
// one network force-removed in parallel have left the engine (20.10)
// with an endpoint it never frees, and a network it can never remove.
func (c *cluster) removeLabelled(ctx context.Context) error {
	f := make(client.Filters).Add("label", labelFleet+"="+c.id)
	ctrs, err := c.cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return fmt.Errorf("list containers: %w", err)
	}
	err = parallel.Each(len(ctrs.Items), 1, func(i int) error {
		if err := c.removeContainer(ctx, ctrs.Items[i].ID); err != nil {
			return fmt.Errorf("remove container %.12s: %w", ctrs.Items[i].ID, err)
		}
		return nil
	})
	if err != nil {
		return err // a network with containers cannot be removed
	}
	var errs []error
	nets, err := c.cli.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		return fmt.Errorf("list networks: %w", err)
	}
	for _, n := range nets.Items {
		if err := c.removeNetwork(ctx, n.ID); err != nil {
			errs = append(errs, fmt.Errorf("remove network %.12s: %w", n.ID, err))
		}
	}
	return errors.Join(errs...)
}

// removeNetwork removes network id. The engine detaches a removed
// container's endpoint a moment after the removal returns, and refuses
// to remove a network with "active endpoints" until then: that refusal is
// tried again, for up to 10s.
func (c *cluster) removeNetwork(ctx context.Context, id string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		_, err := c.cli.NetworkRemove(ctx, id, client.NetworkRemoveOptions{})
		if err == nil || isNotFound(err) {
			return nil
		}
		if !strings.Contains(err.Error(), "active endpoints") {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(200 * time.Millisecond):
		}
	}
}
