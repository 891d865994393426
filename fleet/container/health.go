package container

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	dcontainer "github.com/moby/moby/api/types/container"
	dnetwork "github.com/moby/moby/api/types/network"

	"github.com/testcontainers/testcontainers-go/wait"
)

// healthy is the readiness check: the server's control port answers
// Health, up, with the node's index and fleet id. It records the ports it found on the node.
// It inspects the container only to learn its ports and, while the check
// fails, now and then to notice that it exited: polling the Docker API
// would slow down every other container starting at the same time.
type healthy struct {
	n *Node
	// orDown passes a server that a crash fault took down in its running
	// process as well: a Pool renews it, which brings it back up.
	orDown bool
}

func (h healthy) WaitUntilReady(ctx context.Context, t wait.StrategyTarget) error {
	var addr, ctlAddr string
	var last error
	for try := 0; ; try++ {
		if ctlAddr == "" || try%10 == 0 {
			addr, ctlAddr, last = ports(ctx, t)
			if errors.Is(last, errExited) {
				return fmt.Errorf("server %d: %w", h.n.index, last)
			}
		}
		if ctlAddr != "" {
			if last = h.check(ctx, ctlAddr); last == nil {
				h.n.mu.Lock()
				h.n.addr, h.n.ctlAddr = addr, ctlAddr
				h.n.mu.Unlock()
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("server %d: not healthy: %w (last: %v)", h.n.index, ctx.Err(), last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// errExited is the health check's error for a container that stopped.
var errExited = errors.New("container stopped")

// ports returns the published data and control addresses of a running
// container.
func ports(ctx context.Context, t wait.StrategyTarget) (addr, ctlAddr string, err error) {
	ins, err := t.Inspect(ctx)
	if err != nil {
		return "", "", err
	}
	if st := ins.State; st != nil && !st.Running {
		return "", "", fmt.Errorf("%w: %s, exit code %d", errExited, st.Status, st.ExitCode)
	}
	addr, ok := published(ins.NetworkSettings, dataPort)
	ctlAddr, ok2 := published(ins.NetworkSettings, controlPort)
	if !ok || !ok2 {
		return "", "", errors.New("ports not published yet")
	}
	return addr, ctlAddr, nil
}

// check asks the control port at ctlAddr for the server's health.
func (h healthy) check(ctx context.Context, ctlAddr string) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	cc, hl, err := h.n.dial(ctx, ctlAddr)
	if err != nil {
		return err
	}
	cc.Close()
	if !hl.Up && !h.orDown {
		return fmt.Errorf("health %+v, want server %d up", hl, h.n.index)
	}
	return nil
}

// published returns the 127.0.0.1 address port is published on.
func published(ns *dcontainer.NetworkSettings, port string) (string, bool) {
	if ns == nil {
		return "", false
	}
	for _, b := range ns.Ports[dnetwork.MustParsePort(port)] {
		if b.HostPort != "" && b.HostPort != "0" {
			return net.JoinHostPort("127.0.0.1", b.HostPort), true
		}
	}
	return "", false
}
