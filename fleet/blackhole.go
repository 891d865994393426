package fleet

import (
	"bufio"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rpcfleet/rpcfleet/internal/memnet"
)

// A blackhole (faults.Blackhole) makes dials hang and open connections go
// unread. Linux drops a SYN when the listener's accept queue is full, and
// the client's connect then retransmits until its own timeout. So while a
// blackhole holds, the server stops its accept loop (a deadline in the
// past wakes it), lowers the listen backlog to 0, and the accept loop,
// before it waits for the blackhole to end, fills the accept queue with one
// connection of its own (a filler): the loop dials it, so the loop cannot
// accept it by a race with the deadline. Reads of every served connection
// wait while it holds. When it ends, the backlog is restored, the fillers
// are closed (and closed again when accepted, recognised by address) and
// accepting resumes.

// fillTimeout bounds the dial of a filler: it completes at once unless the
// accept queue is already full (a client's connection got in first), in
// which case nothing needs filling.
const fillTimeout = 100 * time.Millisecond

// startHole begins a blackhole, if none holds; s.mu is held.
func (s *server) startHole() {
	if s.gate.Load() != nil {
		return
	}
	g := make(chan struct{})
	s.gate.Store(&g)
	if s.ln != nil {
		s.plug()
	}
}

// plug stops the accept loop of s.ln and, on TCP, lowers its backlog and
// asks the loop to fill the accept queue (s.plugged closes when it has);
// s.mu is held and a blackhole holds. A unix socket's dials complete in
// its backlog (a full one fails them at once, not after a hang), where
// they wait, unaccepted, until the blackhole ends.
func (s *server) plug() {
	if dl, ok := s.ln.(deadliner); ok {
		_ = dl.SetDeadline(time.Unix(1, 0)) // wakes the accept loop, which then waits
	}
	if ml, ok := s.ln.(*memnet.Listener); ok {
		ml.SetBacklog(0) // nothing accepts and nothing queues: dials hang
	}
	tl, ok := s.ln.(*net.TCPListener)
	if !ok {
		// A unix socket or a memory listener: SetFaults waits only for
		// the loop to park, so that no dial after it is accepted.
		s.plugged = make(chan struct{})
		return
	}
	if setBacklog(tl, 0) != nil {
		return
	}
	s.plugged = make(chan struct{})
}

// fill dials ln once, so that its accept queue (backlog 0) is full and
// further dials hang. The accept loop of ln calls it. The dial times out if
// the queue is full already; a filler of an earlier blackhole, not accepted
// yet, is known to fill it.
func (s *server) fill(ln net.Listener) {
	s.mu.Lock()
	full := len(s.fillerAt) > 0
	s.mu.Unlock()
	if full {
		return
	}
	c, err := net.DialTimeout("tcp", ln.Addr().String(), fillTimeout)
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fillerAt == nil {
		s.fillerAt = make(map[string]struct{})
	}
	s.fillerAt[c.LocalAddr().String()] = struct{}{}
	if s.ln == ln && s.gate.Load() != nil {
		s.fillers = append(s.fillers, c)
	} else {
		c.Close() // the blackhole ended meanwhile
	}
}

// endHole ends the blackhole, if one holds: the listener takes connections
// again and reads resume; s.mu is held.
func (s *server) endHole() {
	g := s.gate.Swap(nil)
	if g == nil {
		return
	}
	switch l := s.ln.(type) {
	case *net.TCPListener:
		_ = setBacklog(l, listenBacklog())
	case *memnet.Listener:
		l.SetBacklog(memnet.DefaultBacklog)
	}
	if dl, ok := s.ln.(deadliner); ok && s.paused.Load() == nil {
		_ = dl.SetDeadline(time.Time{})
	}
	close(*g)
	s.closeFillers()
}

// closeFillers closes the server's own dials that filled the accept queue,
// and releases a wait for a fill that will not come now; s.mu is held.
// The fillers' addresses are kept until they are accepted.
func (s *server) closeFillers() {
	for _, c := range s.fillers {
		c.Close()
	}
	s.fillers = nil
	if s.plugged != nil {
		close(s.plugged)
		s.plugged = nil
	}
}

// holdAccept returns the channel to wait on before accepting from ln: the
// blackhole's, or nil if none holds or ln is no longer the listener. If ln
// is to be filled first, plugged is the channel to close once it is.
func (s *server) holdAccept(ln net.Listener) (hole <-chan struct{}, plugged chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != ln {
		return nil, nil
	}
	g := s.gate.Load()
	if g == nil {
		return nil, nil
	}
	plugged, s.plugged = s.plugged, nil
	return *g, plugged
}

// isFiller reports, and forgets, whether c is the server end of a filler;
// s.mu is held.
func (s *server) isFiller(c net.Conn) bool {
	a := c.RemoteAddr().String()
	if _, ok := s.fillerAt[a]; ok {
		delete(s.fillerAt, a)
		return true
	}
	return false
}

// setBacklog calls listen(2) again on the listening socket, which changes
// its backlog.
func setBacklog(tl *net.TCPListener, n int) error {
	rc, err := tl.SyscallConn()
	if err != nil {
		return err
	}
	var lerr error
	if err := rc.Control(func(fd uintptr) { lerr = syscall.Listen(int(fd), n) }); err != nil {
		return err
	}
	return lerr
}

// listenBacklog is the backlog Go's net.Listen uses on Linux.
func listenBacklog() int {
	b, err := os.ReadFile("/proc/sys/net/core/somaxconn")
	if err != nil {
		return syscall.SOMAXCONN
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || n <= 0 {
		return syscall.SOMAXCONN
	}
	return min(n, 1<<16-1)
}

// gatedConn is a served connection whose reads wait while a blackhole
// holds or the server is paused, and whose writes wait while it is
// paused. Data that arrives meanwhile is held back until they end. Close
// wakes a waiting read or write, which then fails.
type gatedConn struct {
	net.Conn
	gate   *atomic.Pointer[chan struct{}] // a blackhole's
	paused *atomic.Pointer[chan struct{}] // a pause's
	closed chan struct{}
	once   sync.Once
}

func newGatedConn(c net.Conn, gate, paused *atomic.Pointer[chan struct{}]) *gatedConn {
	return &gatedConn{Conn: c, gate: gate, paused: paused, closed: make(chan struct{})}
}

// hold waits while a blackhole holds or the server is paused; net.ErrClosed
// if c closes meanwhile.
func (c *gatedConn) hold() error {
	for {
		g := c.gate.Load()
		if g == nil {
			g = c.paused.Load()
		}
		if g == nil {
			return nil
		}
		select {
		case <-*g:
		case <-c.closed:
			return net.ErrClosed
		}
	}
}

// Write waits while the server is paused.
func (c *gatedConn) Write(p []byte) (int, error) {
	for g := c.paused.Load(); g != nil; g = c.paused.Load() {
		select {
		case <-*g:
		case <-c.closed:
			return 0, net.ErrClosed
		}
	}
	return c.Conn.Write(p)
}

func (c *gatedConn) Read(p []byte) (int, error) {
	if err := c.hold(); err != nil {
		return 0, err
	}
	n, err := c.Conn.Read(p)
	if n > 0 {
		// A read blocked before the blackhole began returns what was sent
		// during it: hold it back.
		if herr := c.hold(); herr != nil {
			return 0, herr
		}
	}
	return n, err
}

func (c *gatedConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return c.Conn.Close()
}

// BufferSize is the size of the buffers to put in front of the
// connection: the in-memory transport's own (see memnet), else bufio's
// default.
func (c *gatedConn) BufferSize() int {
	if b, ok := c.Conn.(interface{ BufferSize() int }); ok {
		return b.BufferSize()
	}
	return 4096
}

// SetLinger sets SO_LINGER on a TCP connection, or its like on an
// in-memory one (the reset fault uses it).
func (c *gatedConn) SetLinger(sec int) error {
	if lc, ok := c.Conn.(interface{ SetLinger(sec int) error }); ok {
		return lc.SetLinger(sec)
	}
	return nil
}

// gatedReader reads c's buffered reader, waiting while a blackhole holds,
// so a request already buffered is not read during one either. It is an
// io.ByteReader, so gob reads it without buffering ahead.
type gatedReader struct {
	br *bufio.Reader
	c  *gatedConn
}

func (r gatedReader) Read(p []byte) (int, error) {
	if err := r.c.hold(); err != nil {
		return 0, err
	}
	return r.br.Read(p)
}

func (r gatedReader) ReadByte() (byte, error) {
	if err := r.c.hold(); err != nil {
		return 0, err
	}
	return r.br.ReadByte()
}
