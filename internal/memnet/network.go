package memnet

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// DefaultBacklog is how many dials a listener queues, completed but not
// accepted yet, before further dials wait (see Listener.SetBacklog).
const DefaultBacklog = 128

// Network is an in-memory network: the listeners on it, by address. Its
// addresses are host:port with the host New was given. It is safe for
// concurrent use; it needs no closing (a Listener does).
type Network struct {
	host string

	mu      sync.Mutex
	ls      map[string]*Listener // open listeners by address
	clients int                  // numbers the dialling ends' addresses
}

// New returns an empty network whose addresses have the given host.
func New(host string) *Network {
	return &Network{host: host, ls: make(map[string]*Listener)}
}

// Addr returns the address of port on the network.
func (n *Network) Addr(port int) string { return net.JoinHostPort(n.host, strconv.Itoa(port)) }

// Owns reports whether addr is an address of this network.
func (n *Network) Owns(addr string) bool {
	h, _, err := net.SplitHostPort(addr)
	return err == nil && h == n.host
}

// Listen listens on addr, an address of the network no open listener
// has. A closed listener's address can be listened on again.
func (n *Network) Listen(addr string) (*Listener, error) {
	if !n.Owns(addr) {
		return nil, &net.OpError{Op: "listen", Net: "memory", Addr: Addr(addr), Err: fmt.Errorf("not an address of in-memory network %s", n.host)}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.ls[addr]; ok {
		return nil, &net.OpError{Op: "listen", Net: "memory", Addr: Addr(addr), Err: os.NewSyscallError("bind", syscall.EADDRINUSE)}
	}
	l := &Listener{n: n, addr: Addr(addr), backlog: DefaultBacklog, closed: make(chan struct{})}
	n.ls[addr] = l
	return l, nil
}

// Dial connects to the listener at addr. It returns once the connection
// is queued in the listener's backlog, waiting while the backlog is full;
// a dial to an address nobody listens on is refused
// (syscall.ECONNREFUSED). When ctx ends first the error wraps ctx's.
func (n *Network) Dial(ctx context.Context, addr string) (net.Conn, error) {
	fail := func(err error) error { return &net.OpError{Op: "dial", Net: "memory", Addr: Addr(addr), Err: err} }
	if !n.Owns(addr) {
		return nil, fail(fmt.Errorf("not an address of in-memory network %s", n.host))
	}
	n.mu.Lock()
	l := n.ls[addr]
	n.clients++
	local := Addr(net.JoinHostPort(n.host, "c"+strconv.Itoa(n.clients)))
	n.mu.Unlock()
	if l == nil {
		return nil, fail(os.NewSyscallError("connect", syscall.ECONNREFUSED))
	}
	c, err := l.enqueue(ctx, local)
	if err != nil {
		return nil, fail(err)
	}
	return c, nil
}

// Listener is a listener on a Network. It is safe for concurrent use.
type Listener struct {
	n    *Network
	addr Addr

	mu      sync.Mutex
	queue   []*conn // the accepting ends of dials not accepted yet
	backlog int
	changed chan struct{} // closed at the next change, if anyone waits
	closed  chan struct{}
	dl      deadline
}

var _ net.Listener = (*Listener)(nil)

// Addr returns the listener's address.
func (l *Listener) Addr() net.Addr { return l.addr }

// wake tells waiters that the listener changed; l.mu is held.
func (l *Listener) wake() {
	if l.changed != nil {
		close(l.changed)
		l.changed = nil
	}
}

// wait returns a channel closed at the next change; l.mu is held.
func (l *Listener) wait() <-chan struct{} {
	if l.changed == nil {
		l.changed = make(chan struct{})
	}
	return l.changed
}

// isClosed reports whether Close was called.
func (l *Listener) isClosed() bool {
	select {
	case <-l.closed:
		return true
	default:
		return false
	}
}

// enqueue queues a new connection from local and returns its dialling
// end, once there is room in the backlog.
func (l *Listener) enqueue(ctx context.Context, local Addr) (net.Conn, error) {
	for {
		l.mu.Lock()
		if l.isClosed() {
			l.mu.Unlock()
			return nil, os.NewSyscallError("connect", syscall.ECONNREFUSED)
		}
		if len(l.queue) < l.backlog {
			client, server := newPair(local, l.addr)
			l.queue = append(l.queue, server)
			l.wake()
			l.mu.Unlock()
			return client, nil
		}
		ch := l.wait()
		l.mu.Unlock()
		select {
		case <-ch:
		case <-l.closed:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Accept waits for and returns the next connection; net.ErrClosed once
// the listener is closed, os.ErrDeadlineExceeded once its deadline
// passed.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		l.mu.Lock()
		switch {
		case l.isClosed():
			l.mu.Unlock()
			return nil, &net.OpError{Op: "accept", Net: "memory", Addr: l.addr, Err: net.ErrClosed}
		case l.dl.passed():
			l.mu.Unlock()
			return nil, &net.OpError{Op: "accept", Net: "memory", Addr: l.addr, Err: os.ErrDeadlineExceeded}
		case len(l.queue) > 0:
			c := l.queue[0]
			l.queue[0] = nil
			l.queue = l.queue[1:]
			if len(l.queue) == 0 {
				l.queue = nil
			}
			l.wake()
			l.mu.Unlock()
			return c, nil
		}
		ch := l.wait()
		l.mu.Unlock()
		select {
		case <-ch:
		case <-l.closed:
		case <-l.dl.done():
		}
	}
}

// Close stops listening: the address refuses dials, and the connections
// queued but not accepted are closed. It can be listened on again.
func (l *Listener) Close() error {
	l.mu.Lock()
	if l.isClosed() {
		l.mu.Unlock()
		return &net.OpError{Op: "close", Net: "memory", Addr: l.addr, Err: net.ErrClosed}
	}
	close(l.closed)
	queued := l.queue
	l.queue = nil
	l.wake()
	l.mu.Unlock()
	l.dl.stop()
	for _, c := range queued {
		c.Close()
	}
	l.n.mu.Lock()
	if l.n.ls[string(l.addr)] == l {
		delete(l.n.ls, string(l.addr))
	}
	l.n.mu.Unlock()
	return nil
}

// SetDeadline sets the deadline of Accept; the zero time clears it. A
// deadline in the past wakes a waiting Accept.
func (l *Listener) SetDeadline(t time.Time) error {
	l.dl.set(t)
	l.mu.Lock()
	l.wake()
	l.mu.Unlock()
	return nil
}

// SetBacklog sets how many dials may wait, completed, to be accepted;
// beyond that a dial waits until one is accepted or the backlog grows.
// With 0, every dial waits until the backlog grows again: while nothing
// accepts either, dials hang, as at a blackholed TCP port.
func (l *Listener) SetBacklog(n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n < 0 {
		n = 0
	}
	l.backlog = n
	l.wake()
}
