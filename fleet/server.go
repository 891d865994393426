package fleet

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/rpc"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet/driver"
	"github.com/rpcfleet/rpcfleet/internal/inject"
	"github.com/rpcfleet/rpcfleet/internal/memnet"
	"github.com/rpcfleet/rpcfleet/internal/porthold"
)

// server is one server of an in-process fleet. Its methods are safe for
// concurrent use. The fleet owns it: Fleet.Stop stops it.
type server struct {
	index   int
	addr    string
	rpc     *rpc.Server
	eng     *inject.Engine
	journal *journal

	mu        sync.Mutex
	network   string           // "tcp", "unix" (WithUnixSockets) or "memory" (WithMemory)
	mem       *memnet.Network  // the network of "memory"
	services  []driver.Service // the user's receivers (WithService)
	handshake time.Duration    // WithHandshakeTimeout
	skew      time.Duration    // WithClockSkew: added to the journal's times and Control.Now
	limits    inject.Limits    // WithMaxRequestSize, WithMaxInFlight, WithIdleTimeout
	ln        net.Listener     // nil while down
	conns     map[net.Conn]struct{}
	wg        sync.WaitGroup // the accept loop and one goroutine per connection
	stopped   bool           // by Fleet.Stop: no restart
	ctl       *controlServer // nil without WithControl
	ctlConns  map[net.Conn]struct{}
	ctlWG     sync.WaitGroup // the control accept loop and its connections
	downCh    chan struct{}  // closed when the server goes down; wakes slow accepts
	refusing  bool           // down because of a Refuse fault, not Kill
	refStop   chan struct{}  // closes to stop the refuser goroutine
	refDone   chan struct{}  // closed when the refuser goroutine has exited
	lnDone    chan struct{}  // closed when ln closes; ends an accept loop waiting out a blackhole

	// A Blackhole fault (see blackhole.go): gate is non-nil while one
	// holds and is closed when it ends; reads wait on it.
	gate     atomic.Pointer[chan struct{}]
	fillers  []net.Conn          // the server's own dials filling the accept queue
	fillerAt map[string]struct{} // their local addresses, until accepted; made by the first fill
	plugged  chan struct{}       // closed when the accept loop has filled the queue
	bhStop   chan struct{}       // closes to stop the blackhole's goroutine
	bhDone   chan struct{}       // closed when it has exited

	// Pause (see pause.go): paused is non-nil while the server is paused
	// and is closed when it goes on; accepts, reads and writes wait on it.
	paused atomic.Pointer[chan struct{}]
	life   life           // under mu: up, down, paused or disconnected
	hold   *porthold.Hold // under mu: the port of a disconnected server

	kept keeper // the replies a Hold fault keeps (release.go)

	// lifeMu serialises SetFaults and the lifecycle methods, so that a
	// WaitGroup is never added to while another goroutine waits on it.
	lifeMu sync.Mutex
}

func newServer(index, size int, seed uint64, j *journal) *server {
	return &server{
		index:    index,
		network:  "tcp",
		rpc:      rpc.NewServer(),
		eng:      inject.NewEngine(seed, index, size),
		journal:  j,
		conns:    make(map[net.Conn]struct{}),
		ctlConns: make(map[net.Conn]struct{}),
	}
}

// ControlAddr returns the address of the server's control port, or "" if
// the fleet was started without WithControl.
func (s *server) ControlAddr() string {
	if s.ctl == nil {
		return ""
	}
	return s.ctl.ln.Addr().String()
}

// trackCtl registers a control connection; false once the fleet stopped.
func (s *server) trackCtl(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return false
	}
	s.ctlConns[c] = struct{}{}
	s.ctlWG.Add(1)
	return true
}

func (s *server) untrackCtl(c net.Conn) {
	s.mu.Lock()
	delete(s.ctlConns, c)
	s.mu.Unlock()
	c.Close()
	s.ctlWG.Done()
}

// Index returns the server's position in the fleet.
func (s *server) Index() int { return s.index }

// Addr returns the server's address, host:port on 127.0.0.1. It stays the
// same across Kill and Restart.
func (s *server) Addr() string { return s.addr }

// SetFaults replaces the server's fault plan, atomically for calls in
// flight: each call is decided under the old plan or the new one. Refuse
// and Blackhole windows of the old plan end; those of the new one start.
func (s *server) SetFaults(p faults.Plan) {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	s.setFaults(p)
}

// setFaults is SetFaults; s.lifeMu is held.
func (s *server) setFaults(p faults.Plan) {
	s.eng.SetFaults(p)
	s.stopWindows(&s.refStop, &s.refDone)
	s.stopWindows(&s.bhStop, &s.bhDone)
	var plugged, lnDone chan struct{}
	defer func() {
		if plugged != nil {
			// Once the accept loop has filled the queue, the very next
			// dial hangs.
			select {
			case <-plugged:
			case <-lnDone:
			}
		}
	}()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.endHole()
	if s.stopped {
		return
	}
	if s.refusing {
		s.relisten()
	}
	if ws := s.eng.Blackholes(); len(ws) > 0 {
		if !ws[0].Start.After(time.Now()) {
			s.startHole()
			if s.paused.Load() == nil {
				// A paused accept loop fills the queue once it goes on.
				plugged, lnDone = s.plugged, s.lnDone
			}
		}
		s.bhStop, s.bhDone = make(chan struct{}), make(chan struct{})
		go s.inWindows(ws, s.startHole, s.endHole, s.bhStop, s.bhDone)
	}
	if ws := s.eng.Refusals(); len(ws) > 0 {
		if s.ln != nil && !ws[0].Start.After(time.Now()) {
			// A window that starts now refuses the very next dial.
			s.closeListener()
			s.refusing = true
		}
		s.refStop, s.refDone = make(chan struct{}), make(chan struct{})
		go s.inWindows(ws, s.refuse, s.unrefuse, s.refStop, s.refDone)
	}
}

// refuse closes the listener, so dials are refused; s.mu is held.
func (s *server) refuse() {
	if s.ln != nil {
		s.closeListener()
		s.refusing = true
	}
}

// unrefuse reopens the listener after a refusal; s.mu is held.
func (s *server) unrefuse() {
	if s.refusing {
		s.relisten()
	}
}

// inWindows calls begin at the start of each window and end at its end,
// with s.mu held, until stop closes.
func (s *server) inWindows(ws []inject.Window, begin, end func(), stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	until := func(t time.Time) bool {
		if t.IsZero() {
			<-stop
			return false
		}
		tm := time.NewTimer(time.Until(t))
		defer tm.Stop()
		select {
		case <-tm.C:
			return true
		case <-stop:
			return false
		}
	}
	for _, w := range ws {
		if !until(w.Start) {
			return
		}
		s.mu.Lock()
		begin()
		s.mu.Unlock()
		if !until(w.End) {
			return
		}
		s.mu.Lock()
		end()
		s.mu.Unlock()
	}
}

// stopWindows ends the inWindows goroutine whose channels are *stop and
// *done (fields of s, guarded by s.mu), if any, and waits for it.
func (s *server) stopWindows(stop, done *chan struct{}) {
	s.mu.Lock()
	st, dn := *stop, *done
	*stop, *done = nil, nil
	s.mu.Unlock()
	if st != nil {
		close(st)
		<-dn
	}
}

// relisten reopens the listener after a refusal; s.mu is held. If the
// address cannot be bound again the server stays down.
func (s *server) relisten() {
	s.refusing = false
	if s.ln != nil {
		return // restarted meanwhile
	}
	if ln, err := s.bind(s.addr); err == nil {
		s.serveOn(ln)
	}
}

// closeListener closes the listener, so dials are refused; s.mu is held.
func (s *server) closeListener() {
	s.ln.Close()
	s.ln = nil
	close(s.lnDone)
	s.closeFillers()
}

// Faults returns the server's current fault plan.
func (s *server) Faults() faults.Plan { return s.eng.Plan() }

// Up reports whether the server is accepting connections.
func (s *server) Up() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ln != nil
}

// OpenConns returns the number of connections the server has open.
func (s *server) OpenConns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// listen binds addr and starts the accept loop.
func (s *server) listen(addr string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return fmt.Errorf("fleet: server %d: fleet stopped", s.index)
	}
	if s.ln != nil {
		return fmt.Errorf("fleet: server %d: already up", s.index)
	}
	s.releaseHold()    // a server killed while disconnected
	s.refusing = false // a Restart ends a refusal in progress
	ln, err := s.bind(addr)
	if err != nil {
		return fmt.Errorf("fleet: server %d: %w", s.index, err)
	}
	s.life = lifeUp
	if s.addr == "" {
		s.addr = ln.Addr().String()
		if err := s.register(); err != nil {
			ln.Close()
			return fmt.Errorf("fleet: server %d: %w", s.index, err)
		}
	}
	s.serveOn(ln)
	return nil
}

// bind listens on addr, on the server's network: TCP, or a unix socket
// whose stale file, if any, it removes first.
func (s *server) bind(addr string) (net.Listener, error) {
	switch s.network {
	case "memory":
		return s.mem.Listen(addr)
	case "tcp":
		return net.Listen("tcp", addr)
	}
	if len(addr) > maxSocketPath {
		return nil, fmt.Errorf("unix socket path %q is %d bytes, over the %d Linux allows: use a shorter WithUnixSockets directory", addr, len(addr), maxSocketPath)
	}
	if fi, err := os.Lstat(addr); err == nil && fi.Mode()&os.ModeSocket != 0 {
		os.Remove(addr)
	}
	ln, err := net.Listen("unix", addr)
	if err != nil {
		return nil, err
	}
	// A down server's socket file stays, so a dial is refused, as at a
	// down TCP server's port; Stop removes it.
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	return ln, nil
}

// maxSocketPath is the longest unix socket path Linux takes (sun_path
// holds 108 bytes with the terminating NUL).
const maxSocketPath = 107

// register registers the default Service, unless the user's services
// replace it, and the user's services, each a fresh instance for this
// server.
func (s *server) register() error {
	own := slices.ContainsFunc(s.services, func(sv driver.Service) bool { return sv.Name == "Service" })
	if !own {
		if err := s.rpc.RegisterName("Service", &service{index: s.index, addr: s.addr}); err != nil {
			return err
		}
	}
	for _, sv := range s.services {
		if err := s.rpc.RegisterName(sv.Name, sv.New(s.index)); err != nil {
			return fmt.Errorf("WithService(%q): %w", sv.Name, err)
		}
	}
	return nil
}

// serveOn starts the accept loop on ln; s.mu is held.
func (s *server) serveOn(ln net.Listener) {
	s.ln = ln
	s.lnDone = make(chan struct{})
	if s.downCh == nil { // a refusal ends without the server going down
		s.downCh = make(chan struct{})
	}
	clear(s.fillerAt) // those of an old listener are never accepted
	if s.gate.Load() != nil {
		s.plug() // a blackhole holds: after a refusal, or a crash and Restart
	}
	s.wg.Add(1)
	go s.accept(ln, s.downCh, s.lnDone)
}

// accept runs until ln is closed. It replaces rpc.Server.Accept, which logs
// when its listener closes. While a blackhole holds it accepts nothing.
func (s *server) accept(ln net.Listener, down, lnDone <-chan struct{}) {
	defer s.wg.Done()
	var backoff time.Duration
	for {
		if p := s.paused.Load(); p != nil {
			select {
			case <-*p:
			case <-down:
				return
			case <-lnDone:
				return
			}
			continue
		}
		if hole, plugged := s.holdAccept(ln); hole != nil {
			if plugged != nil {
				if _, tcp := ln.(*net.TCPListener); tcp {
					s.fill(ln)
				}
				close(plugged)
			}
			select {
			case <-hole:
			case <-down:
				return
			case <-lnDone:
				return
			}
			continue
		}
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				continue // a blackhole or a pause began
			}
			// Out of file descriptors or similar: back off and retry, as
			// net/http does, unless the server goes down meanwhile.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-down:
				t.Stop()
				return
			}
			continue
		}
		backoff = 0
		s.mu.Lock()
		if s.ln != ln {
			s.mu.Unlock()
			c.Close()
			return
		}
		if s.isFiller(c) {
			s.mu.Unlock()
			c.Close()
			continue
		}
		gc := newGatedConn(c, &s.gate, &s.paused)
		s.conns[gc] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serve(gc, down)
	}
}

// serve runs net/rpc on one connection until it closes.
func (s *server) serve(c *gatedConn, down <-chan struct{}) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}()
	if d := s.eng.DecideAccept(); d.Fault != nil {
		t := time.NewTimer(d.Delay)
		select {
		case <-t.C:
		case <-down:
			t.Stop()
			c.Close()
			return
		}
	}
	br := bufio.NewReaderSize(c, c.BufferSize())
	proto, err := sniff(c, br, s.handshake)
	if err != nil {
		c.Close()
		return
	}
	h := host{recorder: recorder{j: s.journal, server: s.index, addr: s.addr, skew: s.skew}, s: s}
	newCodec := inject.NewServerCodec
	if proto == jsonProtocol {
		newCodec = inject.NewJSONServerCodec
	}
	s.rpc.ServeCodec(newCodec(c, gatedReader{br: br, c: c}, s.eng, h, inject.WithLimits(s.limits, c.closed), inject.WithGate(c.hold)))
}

// host lets a codec record calls and crash the server.
type host struct {
	recorder
	s *server
}

// Crash takes the server down without waiting: it is called from one of
// the server's own goroutines.
func (h host) Crash() { h.s.down(false) }

// down closes the listener and every connection, without waiting.
func (s *server) down(stop bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if stop {
		s.stopped = true
		if s.network == "unix" && s.addr != "" {
			defer os.Remove(s.addr) // after the listener closes
		}
		if s.ctl != nil {
			s.ctl.ln.Close()
		}
		for c := range s.ctlConns {
			c.Close()
		}
	}
	if s.ln != nil {
		s.closeListener()
	}
	if s.downCh != nil {
		close(s.downCh)
		s.downCh = nil
	}
	s.refusing = false
	for c := range s.conns {
		c.Close()
	}
	s.life = lifeDown
	s.unpause() // after the connections closed: nothing held back is sent
	if stop {
		s.releaseHold()
	}
}

// Kill takes the server down: it closes the listener, so new connections are
// refused, and every open connection, so calls in flight fail. Refuse and
// Blackhole windows end. It returns when every goroutine of the server has
// exited. Killing a server that is down does nothing.
func (s *server) Kill() {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	s.kill()
}

// kill is Kill; s.lifeMu is held.
func (s *server) kill() {
	s.stopWindows(&s.refStop, &s.refDone)
	s.stopWindows(&s.bhStop, &s.bhDone)
	s.down(false)
	s.endHoleDown()
	s.wg.Wait()
}

// endHoleDown ends a blackhole that holds once the server is down: after
// its connections closed, so no request it held back is answered.
func (s *server) endHoleDown() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.endHole()
}

// wait returns when every goroutine of the server, control included, has
// exited.
func (s *server) wait() {
	s.lifeMu.Lock()
	s.stopWindows(&s.refStop, &s.refDone)
	s.stopWindows(&s.bhStop, &s.bhDone)
	s.endHoleDown()
	s.lifeMu.Unlock()
	s.wg.Wait()
	s.ctlWG.Wait()
}

// Restart brings a killed server back on the same address.
func (s *server) Restart() error {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	s.mu.Lock()
	l := s.life
	s.mu.Unlock()
	switch l {
	case lifePaused:
		return errors.New("it is paused: Unpause it")
	case lifeCut:
		return errors.New("it is disconnected: Reconnect it")
	}
	return s.listen(s.addr)
}
