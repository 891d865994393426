package fleet

import (
	"context"
	"fmt"
	"net"
	"strings"

	"github.com/rpcfleet/rpcfleet/fleet/driver"
)

// checkMemory refuses the options WithMemory cannot go with.
func checkMemory(cfg driver.Config) error {
	if !cfg.Memory {
		return nil
	}
	for _, o := range []struct {
		set  bool
		what string
	}{
		{cfg.Backend != nil, "WithBackend: the network is in this process"},
		{cfg.UnixDir != "", fmt.Sprintf("WithUnixSockets(%q): a server listens on one network", cfg.UnixDir)},
		{cfg.BasePort != 0, fmt.Sprintf("WithBasePort(%d): memory addresses are numbered by server index", cfg.BasePort)},
		{cfg.Control, "WithControl: other processes cannot reach the network; steer the fleet through its methods"},
	} {
		if o.set {
			return fmt.Errorf("fleet: WithMemory with %s", o.what)
		}
	}
	return nil
}

// Dial connects to addr as a client of the fleet would: on the fleet's
// in-memory network for a fleet WithMemory (the only way to reach it),
// else over TCP, or a unix socket for an address holding a '/'. It has
// the type caller.WithDialer takes: caller.WithDialer(f.Dial) makes the
// reference caller reach the fleet on every transport. On a memory fleet
// it dials nothing else: an address that is not the fleet's fails. ctx
// bounds the dial only. The caller closes the connection.
func (f *Fleet) Dial(ctx context.Context, addr string) (net.Conn, error) {
	if f.mem != nil {
		return f.mem.Dial(ctx, addr)
	}
	network := "tcp"
	if strings.Contains(addr, "/") {
		network = "unix"
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}
