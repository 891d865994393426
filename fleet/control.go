package fleet

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/rpc"
	"net/rpc/jsonrpc"
	"sync/atomic"
	"time"

	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet/driver"
	"github.com/rpcfleet/rpcfleet/internal/wire"
)

// The control protocol's server side: every server started with
// WithControl serves the net/rpc service "Control" on a port of its own,
// beside its data port. Backends steer servers they cannot reach in memory
// (other processes, containers) through it; driver.ControlClient is its Go
// client.

// control is the receiver registered as "Control".
type control struct {
	s  *server
	cs *controlServer
}

// SetFaults replaces the server's plan; an invalid plan is an error naming
// the bad token, and leaves the plan as it was.
func (c control) SetFaults(args wire.FaultsArgs, _ *wire.Empty) error {
	p, err := faults.Parse(args.Plan)
	if err != nil {
		return err
	}
	c.s.SetFaults(p)
	return nil
}

// ClearFaults removes the server's faults.
func (c control) ClearFaults(_ wire.Empty, _ *wire.Empty) error {
	c.s.SetFaults(faults.Plan{})
	return nil
}

// Journal returns the calls the server received, in order.
func (c control) Journal(_ wire.Empty, r *wire.JournalReply[driver.Call]) error {
	r.Calls = c.s.journal.Server(c.s.index)
	return nil
}

// Reset forgets the server's journal and restarts its call counters.
func (c control) Reset(_ wire.Empty, _ *wire.Empty) error {
	c.s.resetCalls()
	return nil
}

// Health reports the server's state.
func (c control) Health(_ wire.Empty, h *driver.Health) error {
	*h = driver.Health{Index: c.s.index, Addr: c.s.addr, Up: c.s.Up(), Calls: c.s.eng.Calls(), Plan: c.s.Faults().String(),
		FleetID: *c.cs.fleetID.Load()}
	return nil
}

// Renew makes the server what a new one would be (see server.renew),
// with the args' seed, fleet size and plan, and then reports the args'
// fleet id. An invalid plan is an error naming the bad token, and
// changes nothing.
func (c control) Renew(args wire.RenewArgs, _ *wire.Empty) error {
	p, err := faults.Parse(args.Plan)
	if err != nil {
		return err
	}
	if err := c.s.renew(args.Seed, args.FleetSize, p); err != nil {
		return err
	}
	c.cs.fleetID.Store(&args.FleetID)
	return nil
}

// controlServer serves Control for one server on its own listener.
type controlServer struct {
	ln        net.Listener
	rpc       *rpc.Server
	fleetID   atomic.Pointer[string] // Health's FleetID; Renew changes it
	handshake time.Duration          // see WithHandshakeTimeout
}

func startControl(s *server, addr, fleetID string) (*controlServer, error) {
	cs := &controlServer{rpc: rpc.NewServer(), handshake: s.handshake}
	cs.fleetID.Store(&fleetID)
	if err := cs.rpc.RegisterName("Control", control{s, cs}); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("fleet: server %d: control: %w", s.index, err)
	}
	cs.ln = ln
	s.ctlWG.Add(1)
	go cs.accept(s)
	return cs, nil
}

// accept serves control connections until the listener closes.
func (cs *controlServer) accept(s *server) {
	defer s.ctlWG.Done()
	for {
		c, err := cs.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors or similar: wait a little; Stop
			// closes the listener, which ends the loop at the next Accept.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if !s.trackCtl(c) {
			c.Close()
			return
		}
		go func() {
			defer s.untrackCtl(c)
			cs.serve(c)
		}()
	}
}

// serve serves Control on c in the protocol its client speaks (see
// sniff).
func (cs *controlServer) serve(c net.Conn) {
	br := bufio.NewReader(c)
	proto, err := sniff(c, br, cs.handshake)
	if err != nil {
		return
	}
	rwc := struct {
		io.Reader
		io.Writer
		io.Closer
	}{br, c, c}
	if proto == jsonProtocol {
		cs.rpc.ServeCodec(jsonrpc.NewServerCodec(rwc))
		return
	}
	cs.rpc.ServeConn(rwc)
}

// resetCalls forgets the server's journal and restarts its call counters.
func (s *server) resetCalls() {
	s.journal.ResetServer(s.index)
	s.eng.Reset()
}
