package fleet

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/rpc"
	"net/rpc/jsonrpc"
	"time"

	"github.com/rpcfleet/rpcfleet/faults"
)

// The control protocol: every server started with WithControl serves the
// net/rpc service "Control" on a port of its own, beside its data port.
// Tests steer servers they cannot reach in memory (other processes,
// containers) through it; ControlClient is its Go client.

// Health is the reply of Control.Health.
type Health struct {
	Index int    // the server's index in its fleet
	Addr  string // the data address as the server sees it
	Up    bool   // accepting connections
	Calls uint64 // calls received since start or the last reset
	Plan  string // the current fault plan, in text form

	// FleetID names the fleet the server belongs to, as its starter set
	// it (WithFleetID; rpcfleet serve --fleet-id), or "". With Index it
	// tells a fleet's server from another fleet's server of the same
	// index that a stale address may reach.
	FleetID string
}

// FaultsArgs is the argument of Control.SetFaults: a plan in text form.
type FaultsArgs struct{ Plan string }

// JournalReply is the reply of Control.Journal.
type JournalReply struct{ Calls []Call }

// Empty is the argument or reply of Control methods that need none.
type Empty struct{}

// control is the receiver registered as "Control".
type control struct {
	s  *Server
	cs *controlServer
}

// SetFaults replaces the server's plan; an invalid plan is an error naming
// the bad token, and leaves the plan as it was.
func (c control) SetFaults(args FaultsArgs, _ *Empty) error {
	p, err := faults.Parse(args.Plan)
	if err != nil {
		return err
	}
	c.s.SetFaults(p)
	return nil
}

// ClearFaults removes the server's faults.
func (c control) ClearFaults(_ Empty, _ *Empty) error {
	c.s.SetFaults(faults.Plan{})
	return nil
}

// Journal returns the calls the server received, in order.
func (c control) Journal(_ Empty, r *JournalReply) error {
	r.Calls = c.s.journal.Server(c.s.index)
	return nil
}

// Reset forgets the server's journal and restarts its call counters.
func (c control) Reset(_ Empty, _ *Empty) error {
	c.s.resetCalls()
	return nil
}

// Health reports the server's state.
func (c control) Health(_ Empty, h *Health) error {
	*h = Health{Index: c.s.index, Addr: c.s.addr, Up: c.s.Up(), Calls: c.s.eng.Calls(), Plan: c.s.Faults().String(),
		FleetID: c.cs.fleetID}
	return nil
}

// controlServer serves Control for one server on its own listener.
type controlServer struct {
	ln      net.Listener
	rpc     *rpc.Server
	fleetID string // Health's FleetID
}

func startControl(s *Server, addr, fleetID string) (*controlServer, error) {
	cs := &controlServer{rpc: rpc.NewServer(), fleetID: fleetID}
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
func (cs *controlServer) accept(s *Server) {
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
	proto, err := sniff(c, br)
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

// ControlClient steers one server through its control port. It is safe for
// concurrent use; the caller must Close it.
type ControlClient struct {
	c *rpc.Client
}

// DialControl connects to the control port at addr.
func DialControl(ctx context.Context, addr string) (*ControlClient, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("fleet: control %s: %w", addr, err)
	}
	return &ControlClient{c: rpc.NewClient(conn)}, nil
}

// Close closes the connection.
func (c *ControlClient) Close() error { return c.c.Close() }

func (c *ControlClient) call(ctx context.Context, method string, args, reply any) error {
	call := c.c.Go("Control."+method, args, reply, make(chan *rpc.Call, 1))
	select {
	case <-call.Done:
		if call.Error != nil {
			return fmt.Errorf("fleet: control %s: %w", method, call.Error)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("fleet: control %s: %w", method, ctx.Err())
	}
}

// SetFaults replaces the server's plan.
func (c *ControlClient) SetFaults(ctx context.Context, p faults.Plan) error {
	return c.call(ctx, "SetFaults", FaultsArgs{Plan: p.String()}, &Empty{})
}

// ClearFaults removes the server's faults.
func (c *ControlClient) ClearFaults(ctx context.Context) error {
	return c.call(ctx, "ClearFaults", Empty{}, &Empty{})
}

// Journal returns the calls the server received.
func (c *ControlClient) Journal(ctx context.Context) ([]Call, error) {
	var r JournalReply
	if err := c.call(ctx, "Journal", Empty{}, &r); err != nil {
		return nil, err // a late reply may still be decoded into r
	}
	return r.Calls, nil
}

// Reset forgets the server's journal and restarts its call counters.
func (c *ControlClient) Reset(ctx context.Context) error {
	return c.call(ctx, "Reset", Empty{}, &Empty{})
}

// Health reports the server's state; a nil error means it is serving.
func (c *ControlClient) Health(ctx context.Context) (Health, error) {
	var h Health
	if err := c.call(ctx, "Health", Empty{}, &h); err != nil {
		return Health{}, err // a late reply may still be decoded into h
	}
	return h, nil
}

// resetCalls forgets the server's journal and restarts its call counters.
func (s *Server) resetCalls() {
	s.journal.ResetServer(s.index)
	s.eng.Reset()
}
