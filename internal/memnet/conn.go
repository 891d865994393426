package memnet

import (
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// window is how many bytes a pipe buffers before a write waits for the
// reader, as a full socket buffer makes a TCP write wait.
const window = 256 << 10

// pipe carries bytes one way, from one end of a connection to the other.
type pipe struct {
	mu      sync.Mutex
	buf     []byte
	eof     bool          // the writer closed: reads end once buf is drained
	reset   bool          // the writer closed with SetLinger(0): reads fail at once
	gone    bool          // the reader closed: writes fail
	changed chan struct{} // closed at the next change, if anyone waits; made by waiters
}

// wake tells waiters that the pipe changed; p.mu is held.
func (p *pipe) wake() {
	if p.changed != nil {
		close(p.changed)
		p.changed = nil
	}
}

// wait returns a channel closed at the next change; p.mu is held.
func (p *pipe) wait() <-chan struct{} {
	if p.changed == nil {
		p.changed = make(chan struct{})
	}
	return p.changed
}

// conn is one end of an in-memory connection. It is safe for concurrent
// use, as a net.Conn must be.
type conn struct {
	in, out       *pipe // read from in, write to out
	local, remote Addr

	rd, wd    deadline
	closeOnce sync.Once
	closed    chan struct{} // closed by Close: this end's waits end

	mu     sync.Mutex
	linger bool // SetLinger(0): Close resets
}

// newPair returns the two ends of a connection between a and b.
func newPair(a, b Addr) (*conn, *conn) {
	ab, ba := &pipe{}, &pipe{}
	return &conn{in: ba, out: ab, local: a, remote: b, closed: make(chan struct{})},
		&conn{in: ab, out: ba, local: b, remote: a, closed: make(chan struct{})}
}

var _ net.Conn = (*conn)(nil)

func (c *conn) LocalAddr() net.Addr  { return c.local }
func (c *conn) RemoteAddr() net.Addr { return c.remote }

func (c *conn) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "memory", Source: c.local, Addr: c.remote, Err: err}
}

// Read reads what the other end wrote; io.EOF once it closed and every
// byte before its close has been read.
func (c *conn) Read(b []byte) (int, error) {
	p := c.in
	for {
		select {
		case <-c.closed:
			return 0, c.opError("read", net.ErrClosed)
		default:
		}
		if c.rd.passed() {
			return 0, c.opError("read", os.ErrDeadlineExceeded)
		}
		p.mu.Lock()
		switch {
		case p.reset:
			p.mu.Unlock()
			return 0, c.opError("read", os.NewSyscallError("read", syscall.ECONNRESET))
		case len(p.buf) > 0:
			if len(b) == 0 {
				p.mu.Unlock()
				return 0, nil
			}
			n := copy(b, p.buf)
			p.buf = p.buf[n:]
			if len(p.buf) == 0 {
				p.buf = nil // let a large buffer go
			}
			p.wake()
			p.mu.Unlock()
			return n, nil
		case p.eof:
			p.mu.Unlock()
			return 0, io.EOF
		}
		ch := p.wait()
		p.mu.Unlock()
		select {
		case <-ch:
		case <-c.rd.done():
		case <-c.closed:
		}
	}
}

// ReadByte reads one byte, as Read does. A reader that wants bytes one at
// a time (encoding/gob's Decoder, which otherwise adds a 4 KiB
// bufio.Reader of its own per connection) needs no buffer in front.
func (c *conn) ReadByte() (byte, error) {
	var b [1]byte
	for {
		n, err := c.Read(b[:])
		if n == 1 {
			return b[0], nil
		}
		if err != nil {
			return 0, err
		}
	}
}

// BufferSize is the size of the buffers worth putting in front of the
// connection (a bufio.Reader, a bufio.Writer): small, since a write costs
// a copy, not a system call, and a server holding 100,000 connections
// pays for every byte of them.
func (c *conn) BufferSize() int { return 256 }

// Write buffers b for the other end, waiting while a window's worth
// waits unread.
func (c *conn) Write(b []byte) (int, error) {
	p := c.out
	n := 0
	for {
		select {
		case <-c.closed:
			return n, c.opError("write", net.ErrClosed)
		default:
		}
		if c.wd.passed() {
			return n, c.opError("write", os.ErrDeadlineExceeded)
		}
		p.mu.Lock()
		if p.gone || p.eof {
			p.mu.Unlock()
			return n, c.opError("write", os.NewSyscallError("write", syscall.EPIPE))
		}
		if room := window - len(p.buf); room > 0 {
			k := min(room, len(b)-n)
			p.buf = append(p.buf, b[n:n+k]...)
			n += k
			p.wake()
			if n == len(b) {
				p.mu.Unlock()
				return n, nil
			}
		}
		ch := p.wait()
		p.mu.Unlock()
		select {
		case <-ch:
		case <-c.wd.done():
		case <-c.closed:
		}
	}
}

// Close closes this end: the other end reads io.EOF once it has read what
// was written before (syscall.ECONNRESET at once after SetLinger(0)), and
// its writes fail.
func (c *conn) Close() error {
	first := false
	c.closeOnce.Do(func() {
		first = true
		close(c.closed)
		c.mu.Lock()
		reset := c.linger
		c.mu.Unlock()
		c.out.mu.Lock()
		c.out.eof = true
		if reset {
			c.out.reset, c.out.buf = true, nil
		}
		c.out.wake()
		c.out.mu.Unlock()
		c.in.mu.Lock()
		c.in.gone, c.in.buf = true, nil
		c.in.wake()
		c.in.mu.Unlock()
		c.rd.stop()
		c.wd.stop()
	})
	if !first {
		return c.opError("close", net.ErrClosed)
	}
	return nil
}

// SetLinger(0) makes Close reset the connection, as it does a TCP one:
// the other end's reads fail with syscall.ECONNRESET, unread bytes lost.
// Any other value restores the orderly close.
func (c *conn) SetLinger(sec int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.linger = sec == 0
	return nil
}

func (c *conn) SetDeadline(t time.Time) error {
	c.SetReadDeadline(t)
	return c.SetWriteDeadline(t)
}

// SetReadDeadline sets the read deadline and wakes a waiting Read, which
// then waits for the new one.
func (c *conn) SetReadDeadline(t time.Time) error {
	c.rd.set(t)
	c.in.mu.Lock()
	c.in.wake()
	c.in.mu.Unlock()
	return nil
}

// SetWriteDeadline sets the write deadline and wakes a waiting Write.
func (c *conn) SetWriteDeadline(t time.Time) error {
	c.wd.set(t)
	c.out.mu.Lock()
	c.out.wake()
	c.out.mu.Unlock()
	return nil
}
