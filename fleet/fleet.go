package fleet

import (
	"context"
	"fmt"
	"net"
	"strconv"

	"github.com/rpcfleet/rpcfleet/faults"
)

// Fleet is a set of running net/rpc servers on 127.0.0.1. Start creates it;
// the caller must call Stop. Its methods are safe for concurrent use.
type Fleet struct {
	servers []*Server
	journal *Journal
	seed    uint64
}

// Start starts the servers and returns once every one of them accepts
// connections. ctx bounds the start only; the fleet runs until Stop. On
// error nothing is left running.
func Start(ctx context.Context, opts ...Option) (*Fleet, error) {
	cfg := defaults()
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.servers < 1 {
		return nil, fmt.Errorf("fleet: WithServers(%d): need at least one server", cfg.servers)
	}
	for _, b := range []struct {
		name string
		port int
	}{{"WithBasePort", cfg.basePort}, {"WithControl", cfg.controlBasePort}} {
		if b.port < 0 || (b.port > 0 && b.port+cfg.servers-1 > 65535) {
			return nil, fmt.Errorf("fleet: %s(%d) with %d servers: ports must lie in 1..65535", b.name, b.port, cfg.servers)
		}
	}
	if cfg.firstIndex < 0 {
		return nil, fmt.Errorf("fleet: WithFirstIndex(%d): must not be negative", cfg.firstIndex)
	}
	f := &Fleet{journal: &Journal{}, seed: cfg.seed, servers: make([]*Server, cfg.servers)}
	for i := range f.servers {
		if err := ctx.Err(); err != nil {
			f.Stop(context.Background())
			return nil, fmt.Errorf("fleet: start: %w", err)
		}
		s := newServer(cfg.firstIndex+i, cfg.seed, f.journal)
		s.SetFaults(cfg.plan)
		f.servers[i] = s
		if err := s.listen(hostPort(cfg.host, cfg.basePort, i)); err != nil {
			f.Stop(context.Background())
			return nil, err
		}
		if cfg.control {
			ctl, err := startControl(s, hostPort(cfg.host, cfg.controlBasePort, i))
			if err != nil {
				f.Stop(context.Background())
				return nil, err
			}
			s.ctl = ctl
		}
	}
	return f, nil
}

// Len returns the number of servers.
func (f *Fleet) Len() int { return len(f.servers) }

// Seed returns the seed the fleet's fault decisions are drawn from.
func (f *Fleet) Seed() uint64 { return f.seed }

// Addrs returns the servers' addresses in index order. The slice is the
// caller's to keep.
func (f *Fleet) Addrs() []string {
	out := make([]string, len(f.servers))
	for i, s := range f.servers {
		out[i] = s.Addr()
	}
	return out
}

// Server returns server i; it panics if i is out of range, like a slice.
func (f *Fleet) Server(i int) *Server { return f.servers[i] }

// Journal returns the journal of every call the fleet's servers received.
func (f *Fleet) Journal() *Journal { return f.journal }

// SetFaults gives every server the plan p.
func (f *Fleet) SetFaults(p faults.Plan) {
	for _, s := range f.servers {
		s.SetFaults(p)
	}
}

// ClearFaults removes every server's faults.
func (f *Fleet) ClearFaults() { f.SetFaults(faults.Plan{}) }

// Kill takes server i down (see Server.Kill).
func (f *Fleet) Kill(i int) error {
	if i < 0 || i >= len(f.servers) {
		return fmt.Errorf("fleet: kill server %d: no such server (fleet has %d)", i, len(f.servers))
	}
	f.servers[i].Kill()
	return nil
}

// Restart brings server i back on its address (see Server.Restart).
func (f *Fleet) Restart(i int) error {
	if i < 0 || i >= len(f.servers) {
		return fmt.Errorf("fleet: restart server %d: no such server (fleet has %d)", i, len(f.servers))
	}
	return f.servers[i].Restart()
}

// Stop closes every listener and connection and returns when every
// goroutine the fleet started has exited, or with ctx's error if ctx ends
// first (the goroutines still exit soon after). Stop may be called more
// than once; a stopped fleet cannot be restarted.
func (f *Fleet) Stop(ctx context.Context) error {
	for _, s := range f.servers {
		if s != nil {
			s.down(true)
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, s := range f.servers {
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

// hostPort is host:base+i, or host:0 for an ephemeral port when base is 0.
func hostPort(host string, base, i int) string {
	port := 0
	if base > 0 {
		port = base + i
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}
