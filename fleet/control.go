package fleet

import (
	"bufio"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/rpc"
	"sync/atomic"
	"time"

	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet/driver"
	"github.com/rpcfleet/rpcfleet/internal/inject"
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
	if err := c.cs.auth(args.Token); err != nil {
		return err
	}
	p, err := faults.Parse(args.Plan)
	if err != nil {
		return err
	}
	c.s.SetFaults(p)
	return nil
}

// ClearFaults removes the server's faults.
func (c control) ClearFaults(args wire.Auth, _ *wire.Empty) error {
	if err := c.cs.auth(args.Token); err != nil {
		return err
	}
	c.s.SetFaults(faults.Plan{})
	return nil
}

// Journal returns the calls the server received, in order.
func (c control) Journal(args wire.Auth, r *wire.JournalReply[driver.Call]) error {
	if err := c.cs.auth(args.Token); err != nil {
		return err
	}
	r.Calls = c.s.journal.Server(c.s.index)
	return nil
}

// Reset forgets the server's journal and restarts its call counters.
func (c control) Reset(args wire.Auth, _ *wire.Empty) error {
	if err := c.cs.auth(args.Token); err != nil {
		return err
	}
	c.s.resetCalls()
	return nil
}

// Release sends the replies the server holds for a Hold fault and
// returns once they are written.
func (c control) Release(args wire.Auth, _ *wire.Empty) error {
	if err := c.cs.auth(args.Token); err != nil {
		return err
	}
	return c.s.Release()
}

// Health reports the server's state.
func (c control) Health(args wire.Auth, h *driver.Health) error {
	if err := c.cs.auth(args.Token); err != nil {
		return err
	}
	*h = driver.Health{Index: c.s.index, Addr: c.s.addr, Up: c.s.Up(), Calls: c.s.eng.Calls(), Plan: c.s.Faults().String(),
		FleetID: *c.cs.fleetID.Load(), Since: c.cs.since, State: c.s.state().String(), ClockID: c.cs.clockID,
		KillExits: c.cs.onKill != nil}
	return nil
}

// Kill takes the server down, as Fleet.Kill does, then calls the fleet's
// WithControlKill function, if any (rpcfleet serve exits).
func (c control) Kill(args wire.Auth, _ *wire.Empty) error {
	if err := c.cs.auth(args.Token); err != nil {
		return err
	}
	c.s.Kill()
	if c.cs.onKill != nil {
		c.cs.onKill(c.s.index)
	}
	return nil
}

// Restart brings the server back after a Kill that left its process
// running, or a crash fault.
func (c control) Restart(args wire.Auth, _ *wire.Empty) error {
	return c.lifecycle(args, c.s.Restart)
}

// Pause, Unpause, Disconnect and Reconnect are Fleet's, on this server.
func (c control) Pause(args wire.Auth, _ *wire.Empty) error   { return c.lifecycle(args, c.s.Pause) }
func (c control) Unpause(args wire.Auth, _ *wire.Empty) error { return c.lifecycle(args, c.s.Unpause) }
func (c control) Disconnect(args wire.Auth, _ *wire.Empty) error {
	return c.lifecycle(args, c.s.Disconnect)
}
func (c control) Reconnect(args wire.Auth, _ *wire.Empty) error {
	return c.lifecycle(args, c.s.Reconnect)
}

// lifecycle runs one of the server's lifecycle moves once the token checks.
func (c control) lifecycle(args wire.Auth, move func() error) error {
	if err := c.cs.auth(args.Token); err != nil {
		return err
	}
	return move()
}

// Reseed starts the server's fault decisions afresh from a seed and a
// fleet size, as if the server had been started with them.
func (c control) Reseed(args wire.ReseedArgs, _ *wire.Empty) error {
	if err := c.cs.auth(args.Token); err != nil {
		return err
	}
	if args.FleetSize < 0 || args.FleetSize > MaxServers {
		return fmt.Errorf("fleet: control: Reseed: fleet size %d: want 0..%d", args.FleetSize, MaxServers)
	}
	c.s.eng.Reseed(args.Seed, args.FleetSize)
	return nil
}

// Now returns the server's clock, that of its journal (WithClockSkew
// shifts both).
func (c control) Now(args wire.Auth, t *time.Time) error {
	if err := c.cs.auth(args.Token); err != nil {
		return err
	}
	*t = time.Now().Add(c.s.skew).Round(0)
	return nil
}

// Renew makes the server what a new one would be (see server.renew),
// with the args' seed, fleet size and plan, and then reports the args'
// fleet id. An invalid plan is an error naming the bad token, and
// changes nothing.
func (c control) Renew(args wire.RenewArgs, _ *wire.Empty) error {
	if err := c.cs.auth(args.Token); err != nil {
		return err
	}
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
	limits    inject.Limits          // those of the server's data port
	token     [sha256.Size]byte
	hasToken  bool
	since     time.Time       // Health's Since
	clockID   string          // Health's ClockID
	onKill    func(index int) // WithControlKill's function, or nil
}

// ErrControlToken is the error of a control call without the token the
// server was started with (WithControlToken).
var ErrControlToken = errors.New("fleet: control: missing or wrong control token (WithControlToken; rpcfleet serve --control-token or RPCFLEET_CONTROL_TOKEN)")

// auth checks a call's token in constant time: it compares digests, so
// neither the token's bytes nor its length show in the time taken.
func (cs *controlServer) auth(token string) error {
	if !cs.hasToken {
		return nil
	}
	got := sha256.Sum256([]byte(token))
	if subtle.ConstantTimeCompare(got[:], cs.token[:]) != 1 {
		return ErrControlToken
	}
	return nil
}

func startControl(s *server, addr, fleetID, token string, onKill func(int)) (*controlServer, error) {
	cs := &controlServer{rpc: rpc.NewServer(), handshake: s.handshake, limits: s.limits,
		token: sha256.Sum256([]byte(token)), hasToken: token != "", since: time.Now().Add(s.skew).Round(0), onKill: onKill}
	cs.fleetID.Store(&fleetID)
	if s.skew == 0 {
		cs.clockID = driver.LocalClockID()
	}
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
	cs.rpc.ServeCodec(inject.NewPlainCodec(c, br, proto == gobProtocol, cs.limits))
}

// state returns where the server is in its lifecycle.
func (s *server) state() life {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.life
}

// resetCalls forgets the server's journal and restarts its call counters.
func (s *server) resetCalls() {
	s.journal.ResetServer(s.index)
	s.eng.Reset()
}
