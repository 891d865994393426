package inject

import (
	"bufio"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"net"
	"net/rpc"
	"net/rpc/jsonrpc"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Limits bound what one connection can make a server hold, as a gRPC
// server bounds a message's size and a connection's concurrent streams.
// A zero field is no bound.
type Limits struct {
	// MaxRequest bounds one request, in bytes: on gob each message (a
	// request's header or its body; a claimed length above it is refused
	// before anything is read or allocated), on JSON-RPC one request
	// object. A connection sending more is closed.
	MaxRequest int
	// MaxInFlight bounds the calls of one connection being served at
	// once: from their request's header until their reply is written
	// (a hung call is done once swallowed). At the bound the server
	// reads no more from the connection until a reply is written.
	MaxInFlight int
	// Idle closes a connection on which nothing arrived for this long
	// while none of its calls was in flight; a request that takes longer
	// than this to arrive is cut too.
	Idle time.Duration
}

// TooLargeError is the error of a request over Limits.MaxRequest.
type TooLargeError struct {
	Size int64 // the size the request claimed (gob) or reached (JSON)
	Max  int
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("request of %d bytes or more, over the limit of %d: connection closed", e.Size, e.Max)
}

// ErrIdle is the error of a connection closed by Limits.Idle.
var ErrIdle = errors.New("inject: connection idle too long: closed")

// LimitedReader reads a connection's requests within Limits: it refuses
// a request over MaxRequest and ends a connection idle beyond Idle. Call
// Begin before each request. It is used by one goroutine at a time.
type LimitedReader struct {
	r    io.Reader
	br   io.ByteReader // r, if it is one
	conn net.Conn      // read deadlines
	lim  Limits
	gob  bool        // gob framing; else JSON, counted per request
	busy func() bool // calls in flight: a quiet connection is then not idle

	pre   []byte // gob: a message's length prefix, read and not yet passed on
	left  uint64 // gob: bytes of the current message not yet passed on
	count int64  // JSON: bytes read since Begin
	mid   bool   // part of a request was passed on since Begin
	first bool   // the first request: the deadline the caller set holds
}

// NewLimitedReader returns a reader of r, which reads conn (possibly
// buffered), for a gob stream if gob is true and JSON-RPC otherwise.
// busy reports whether the connection has calls in flight; it may be
// nil. The read deadline conn has when the first Begin is called bounds
// the first request; later ones get lim.Idle.
func NewLimitedReader(conn net.Conn, r io.Reader, isGob bool, lim Limits, busy func() bool) *LimitedReader {
	l := &LimitedReader{r: r, conn: conn, lim: lim, gob: isGob, busy: busy, first: true}
	l.br, _ = r.(io.ByteReader)
	if busy == nil {
		l.busy = func() bool { return false }
	}
	return l
}

// Begin marks the start of a request: its size counts from here, and it
// must arrive within lim.Idle (the first within the deadline the
// connection had).
func (l *LimitedReader) Begin() {
	l.count, l.mid = 0, false
	if l.first {
		l.first = false
		return
	}
	l.arm()
}

// arm sets the read deadline lim.Idle from now, or clears it.
func (l *LimitedReader) arm() {
	var t time.Time
	if l.lim.Idle > 0 {
		t = time.Now().Add(l.lim.Idle)
	}
	_ = l.conn.SetReadDeadline(t)
}

// retry reports whether a read that failed with err, having passed
// nothing of a request on, should be tried again: the connection was
// quiet past its deadline, but calls are in flight, so it is not idle.
func (l *LimitedReader) retry(err error) bool {
	if !errors.Is(err, os.ErrDeadlineExceeded) || l.mid || len(l.pre) > 0 || l.left > 0 || !l.busy() {
		return false
	}
	l.arm()
	return true
}

// fail turns a deadline into ErrIdle.
func (l *LimitedReader) fail(err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("%w (%v)", ErrIdle, err)
	}
	return err
}

func (l *LimitedReader) readByte() (byte, error) {
	for {
		var b [1]byte
		var err error
		if l.br != nil {
			b[0], err = l.br.ReadByte()
		} else {
			_, err = io.ReadFull(l.r, b[:])
		}
		if err == nil {
			return b[0], nil
		}
		if !l.retry(err) {
			return 0, l.fail(err)
		}
	}
}

// frame reads a gob message's length prefix (a uint as gob encodes it)
// and refuses a message over the limit.
func (l *LimitedReader) frame() error {
	b, err := l.readByte()
	if err != nil {
		return err
	}
	l.mid = true
	l.pre = append(l.pre[:0], b)
	n := uint64(b)
	if b >= 0x80 {
		k := -int(int8(b))
		if k > 8 {
			return fmt.Errorf("inject: bad gob length prefix %#x", b)
		}
		n = 0
		for range k {
			c, err := l.readByte()
			if err != nil {
				return err
			}
			l.pre = append(l.pre, c)
			n = n<<8 | uint64(c)
		}
	}
	if l.lim.MaxRequest > 0 && n > uint64(l.lim.MaxRequest) {
		return &TooLargeError{Size: int64(min(n, 1<<62)), Max: l.lim.MaxRequest}
	}
	l.left = n
	return nil
}

// Read passes r on, within the limits.
func (l *LimitedReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if l.gob && len(l.pre) == 0 && l.left == 0 {
		if err := l.frame(); err != nil {
			return 0, err
		}
	}
	if len(l.pre) > 0 {
		n := copy(p, l.pre)
		l.pre = l.pre[n:]
		return n, nil
	}
	if l.gob {
		p = p[:min(uint64(len(p)), l.left)]
	}
	for {
		n, err := l.r.Read(p)
		if n > 0 {
			l.mid = true
			if l.gob {
				l.left -= uint64(n) // p was cut to l.left
				return n, nil
			}
			l.count += int64(n)
			if l.lim.MaxRequest > 0 && l.count > int64(l.lim.MaxRequest) {
				return 0, &TooLargeError{Size: l.count, Max: l.lim.MaxRequest}
			}
			return n, nil
		}
		if err == nil {
			continue
		}
		if !l.retry(err) {
			return 0, l.fail(err)
		}
	}
}

// ReadByte makes l an io.ByteReader, so gob reads it without buffering.
func (l *LimitedReader) ReadByte() (byte, error) {
	var b [1]byte
	if _, err := l.Read(b[:]); err != nil {
		return 0, err
	}
	return b[0], nil
}

// slots counts the calls of a connection in flight and caps them
// (Limits.MaxInFlight). It is safe for concurrent use.
type slots struct {
	ch chan struct{} // one token per call in flight; nil: no cap
	n  atomic.Int64  // calls in flight
}

func newSlots(n int) *slots {
	s := &slots{}
	if n > 0 {
		s.ch = make(chan struct{}, n)
	}
	return s
}

// acquire takes a slot, waiting while every one is taken; false if stop
// or closed closes first.
func (s *slots) acquire(stop, closed <-chan struct{}) bool {
	if s.ch != nil {
		select {
		case s.ch <- struct{}{}:
		case <-stop:
			return false
		case <-closed:
			return false
		}
	}
	s.n.Add(1)
	return true
}

func (s *slots) release() {
	s.n.Add(-1)
	if s.ch != nil {
		<-s.ch
	}
}

// busy reports whether a call is in flight besides the one whose request
// is being read, whose slot the codec takes before it reads.
func (s *slots) busy() bool { return s.n.Load() > 1 }

// NewPlainCodec returns a rpc.ServerCodec that applies no faults, gob
// (as rpc.ServeConn) if gob is true and JSON-RPC otherwise, on conn,
// reading r (conn's data, possibly buffered), within lim: for endpoints
// beside the faulty ones, such as a fleet's control ports. It writes each
// reply before WriteResponse returns; Close closes conn.
func NewPlainCodec(conn net.Conn, r io.Reader, isGob bool, lim Limits) rpc.ServerCodec {
	b := &plainCodec{conn: conn, slots: newSlots(lim.MaxInFlight), done: make(chan struct{})}
	b.in = NewLimitedReader(conn, r, isGob, lim, b.slots.busy)
	rwc := wireConn{r: b.in, w: conn, c: conn}
	if isGob {
		buf := bufio.NewWriter(conn)
		b.inner = &gobCodec{gobWire: gobWire{dec: gob.NewDecoder(b.in), enc: gob.NewEncoder(buf)}, buf: buf}
	} else {
		b.inner = jsonrpc.NewServerCodec(rwc)
	}
	return b
}

// plainCodec bounds a codec that writes its replies synchronously.
type plainCodec struct {
	conn      net.Conn
	inner     rpc.ServerCodec
	in        *LimitedReader
	slots     *slots
	done      chan struct{}
	closeOnce sync.Once
}

func (b *plainCodec) ReadRequestHeader(r *rpc.Request) error {
	if !b.slots.acquire(b.done, nil) {
		return io.EOF
	}
	b.in.Begin()
	err := b.inner.ReadRequestHeader(r)
	if err != nil {
		b.slots.release()
		b.cut(err)
	}
	return err
}

func (b *plainCodec) ReadRequestBody(body any) error {
	err := b.inner.ReadRequestBody(body)
	b.cut(err) // net/rpc still answers the call: its slot goes then
	return err
}

// cut closes the connection after a request over the limits.
func (b *plainCodec) cut(err error) {
	if err != nil && overLimits(err) {
		b.conn.Close()
	}
}

// overLimits reports whether err is a request over Limits: too large, or
// too slow to come.
func overLimits(err error) bool {
	var tl *TooLargeError
	return errors.As(err, &tl) || errors.Is(err, ErrIdle)
}

func (b *plainCodec) WriteResponse(r *rpc.Response, body any) error {
	defer b.slots.release()
	return b.inner.WriteResponse(r, body)
}

func (b *plainCodec) Close() error {
	b.closeOnce.Do(func() { close(b.done) })
	b.inner.Close()
	return b.conn.Close()
}

// gobCodec is net/rpc's own gob server codec.
type gobCodec struct {
	gobWire
	buf *bufio.Writer
}

func (g *gobCodec) WriteResponse(r *rpc.Response, body any) error {
	if err := g.gobWire.WriteResponse(r, body); err != nil {
		return err
	}
	return g.buf.Flush()
}
