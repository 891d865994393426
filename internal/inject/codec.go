package inject

import (
	"bufio"
	"bytes"
	"encoding/gob"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/rpc"
	"net/rpc/jsonrpc"
	"sync"
	"time"

	"github.com/rpcfleet/rpcfleet/faults"
)

// Host is the server a ServerCodec works for: it is told about the life of
// every call (it keeps the journal), asked to crash and handed the replies
// a Hold fault keeps. Crash must take the whole server down without
// waiting for the codec. Hold keeps send until the server releases it,
// then calls it once, from the releasing goroutine: send writes the reply
// and returns once it is written (or lost). The codec calls forget, which
// must not block, when the reply can no longer be sent (its connection
// closed); send then does nothing.
type Host interface {
	Recorder
	Crash()
	Hold(send func()) (forget func())
}

// Recorder is told about the life of every call through a ServerCodec.
// Received is called once per request, before the method runs. Then, when
// the call ends, exactly one of: Replied just before its reply is written
// (errText is the error reply's text, "" for a normal reply), Hung when its
// reply is swallowed by a Hang fault, or Aborted when a fault or the
// connection's end stops it (why says which). A reply whose write fails is
// reported again as Aborted. Implementations must be safe for concurrent
// use.
type Recorder interface {
	Received(method string, seq uint64, d Decision, at time.Time) (id int)
	Replied(id int, errText string, at time.Time)
	Hung(id int, at time.Time)
	Aborted(id int, why string, at time.Time)
	// Held is told when a Hold fault keeps the call's reply; Replied or
	// Aborted follow when it is released or lost.
	Held(id int, at time.Time)
}

// Cutter is a Recorder told, when a fault cuts a connection (drop,
// reset, corrupt, truncate, crash), about the calls on it whose replies
// were written while the call that cut it was in flight: the client may
// not have read them by then (a client that sees its connection fail may
// fail every call in flight on it). Implementing it is optional.
type Cutter interface {
	Cut(id int, why string, at time.Time)
}

// NewServerCodec returns a gob rpc.ServerCodec, wire-compatible with
// net/rpc's own, that applies eng's decisions to every call and reports to
// host. r is read from (it may buffer ahead of conn); replies go to conn.
//
// Delayed, throttled and sliced replies are written by goroutines of the
// codec, so a slow reply never holds net/rpc's per-connection lock. A
// delayed call's outcome (an error reply, a drop, a corrupt reply...) is
// applied by that goroutine once the delay has passed. Close
// closes conn and returns only when every such goroutine has exited.
func NewServerCodec(conn net.Conn, r io.Reader, eng *Engine, host Host, opts ...Option) rpc.ServerCodec {
	c := newCodec(conn, r, true, eng, host, opts)
	c.wire = &gobWire{dec: gob.NewDecoder(c.in), enc: gob.NewEncoder(&c.out)}
	return c
}

// NewJSONServerCodec is NewServerCodec for JSON-RPC 1.0 as
// net/rpc/jsonrpc speaks it: every fault applies to its calls as to gob's
// (a corrupt reply is random bytes in place of the JSON).
func NewJSONServerCodec(conn net.Conn, r io.Reader, eng *Engine, host Host, opts ...Option) rpc.ServerCodec {
	c := newCodec(conn, r, false, eng, host, opts)
	c.wire = jsonrpc.NewServerCodec(wireConn{r: c.in, w: &c.out, c: conn})
	return c
}

// Option configures NewServerCodec and NewJSONServerCodec.
type Option func(*serverCodec)

// WithLimits bounds what the connection can make the server hold (see
// Limits). A request over lim.MaxRequest is recorded as an aborted call
// (its method, if its header was read) and its connection closed. closed,
// if not nil, closes when conn is closed, by the codec or anyone else: a
// read waiting for a slot of lim.MaxInFlight then gives up.
func WithLimits(lim Limits, closed <-chan struct{}) Option {
	return func(c *serverCodec) { c.lim, c.closed = lim, closed }
}

// WithGate makes the codec call gate before it reads each request, and
// end the connection if gate fails: a pause or a blackhole waits there. A
// gate on the connection's reads alone would not hold requests a wire
// format has already buffered (encoding/json's decoder reads ahead; gob,
// on an io.ByteReader, does not).
func WithGate(gate func() error) Option {
	return func(c *serverCodec) { c.gate = gate }
}

func newCodec(conn net.Conn, r io.Reader, gob bool, eng *Engine, host Host, opts []Option) *serverCodec {
	c := &serverCodec{
		conn:    conn,
		eng:     eng,
		host:    host,
		pending: make(map[uint64]pending),
		held:    make(map[int]func()),
		done:    make(chan struct{}),
	}
	for _, o := range opts {
		o(c)
	}
	c.slots = newSlots(c.lim.MaxInFlight)
	c.in = NewLimitedReader(conn, r, gob, c.lim, c.slots.busy)
	size := 4096 // bufio's default
	if b, ok := conn.(interface{ BufferSize() int }); ok {
		size = b.BufferSize() // smaller on an in-memory connection
	}
	c.buf = bufio.NewWriterSize(conn, size)
	c.out.w = c.buf
	return c
}

// gobWire reads and writes net/rpc's gob stream, as rpc.ServeConn does.
type gobWire struct {
	dec *gob.Decoder
	enc *gob.Encoder
}

func (g *gobWire) ReadRequestHeader(r *rpc.Request) error { return g.dec.Decode(r) }
func (g *gobWire) ReadRequestBody(body any) error         { return g.dec.Decode(body) }
func (g *gobWire) Close() error                           { return nil }

func (g *gobWire) WriteResponse(r *rpc.Response, body any) error {
	if err := g.enc.Encode(r); err != nil {
		return err
	}
	return g.enc.Encode(body)
}

// wireConn is the connection a wire format's codec sees: reads from r,
// writes through the codec's switchable writer; closing is the codec's.
type wireConn struct {
	r io.Reader
	w io.Writer
	c net.Conn
}

func (w wireConn) Read(p []byte) (int, error)  { return w.r.Read(p) }
func (w wireConn) Write(p []byte) (int, error) { return w.w.Write(p) }
func (w wireConn) Close() error                { return nil }

// switchWriter lets the encoder write to the connection or, for a reply a
// fault will mangle or pace, to a buffer.
type switchWriter struct{ w io.Writer }

func (s *switchWriter) Write(p []byte) (int, error) { return s.w.Write(p) }

// written is a reply written on the connection, for Cutter.
type written struct {
	id int
	at time.Time
}

// maxWritten bounds the replies a codec remembers for Cutter.
const maxWritten = 1024

// wrote remembers that call id's reply was written, its write begun at
// at: before the client could have seen it, and so before any request
// the client sent once it had.
func (c *serverCodec) wrote(id int, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.written) == maxWritten {
		c.written = append(c.written[:0], c.written[maxWritten/2:]...)
	}
	c.written = append(c.written, written{id: id, at: at})
}

// cut tells the host about the replies written while call p was in
// flight, now that a fault of p's (what) cuts the connection.
func (c *serverCodec) cut(p pending, what string) {
	ct, ok := c.host.(Cutter)
	if !ok {
		return
	}
	c.mu.Lock()
	var ids []int
	for _, w := range c.written {
		if !w.at.Before(p.received) {
			ids = append(ids, w.id)
		}
	}
	c.written = nil
	c.mu.Unlock()
	now := time.Now()
	for _, id := range ids {
		ct.Cut(id, what, now)
	}
}

type pending struct {
	id       int
	d        Decision
	received time.Time
}

type serverCodec struct {
	conn net.Conn
	wire rpc.ServerCodec // the wire format: reads requests, writes replies to out
	eng  *Engine
	host Host

	wmu sync.Mutex // guards wire's writing, out and buf: slow replies write outside net/rpc's lock
	out switchWriter
	buf *bufio.Writer

	mu      sync.Mutex
	pending map[uint64]pending // by request Seq
	cur     uint64             // Seq of the request whose body is read next
	written []written          // recent replies written, oldest first (see Cutter)
	held    map[int]func()     // replies a Hold keeps, by call id: their forget; nil once closed

	lim    Limits
	in     *LimitedReader  // the connection's requests, within lim
	slots  *slots          // calls in flight
	closed <-chan struct{} // closes with conn (WithLimits); nil: never
	gate   func() error    // waits before each request (WithGate); nil: none

	done      chan struct{} // closed once no request can come: slow replies give up
	doneOnce  sync.Once
	closeOnce sync.Once
	wg        sync.WaitGroup // goroutines writing slow replies
}

func (c *serverCodec) ReadRequestHeader(r *rpc.Request) error {
	if !c.slots.acquire(c.done, c.closed) {
		c.stop()
		return io.EOF // closed while at the cap of calls in flight
	}
	if c.gate != nil { // after the slot: a pause may begin while we wait for one
		if err := c.gate(); err != nil {
			c.slots.release()
			c.stop()
			return err
		}
	}
	c.in.Begin()
	if err := c.wire.ReadRequestHeader(r); err != nil {
		c.slots.release()
		// net/rpc reads no more and, before it calls Close, waits for
		// every WriteResponse in progress, which may wait for c.wmu held
		// by a paced reply: wake slow replies now, or a slice with a long
		// gap would hold up Stop and Kill for the whole gap.
		c.stop()
		if tl := (*TooLargeError)(nil); errors.As(err, &tl) {
			// Journal it: the client sees only the connection's end.
			id := c.host.Received(r.ServiceMethod, r.Seq, Decision{Rule: -1, DelayRule: -1}, time.Now())
			c.abort(id, err.Error())
			c.conn.Close()
		}
		return err
	}
	now := time.Now()
	d := c.eng.Decide(r.ServiceMethod)
	id := c.host.Received(r.ServiceMethod, r.Seq, d, now)
	c.mu.Lock()
	if c.pending != nil {
		c.pending[r.Seq] = pending{id: id, d: d, received: now}
	}
	c.cur = r.Seq
	c.mu.Unlock()
	return nil
}

func (c *serverCodec) ReadRequestBody(body any) error {
	err := c.wire.ReadRequestBody(body)
	if err != nil && overLimits(err) {
		// The call ends here, and the connection with it.
		c.mu.Lock()
		p, ok := c.pending[c.cur]
		delete(c.pending, c.cur)
		c.mu.Unlock()
		if ok {
			c.abort(p.id, err.Error())
			c.slots.release()
		}
		c.conn.Close()
	}
	return err
}

func (c *serverCodec) WriteResponse(r *rpc.Response, body any) error {
	c.mu.Lock()
	p, ok := c.pending[r.Seq]
	delete(c.pending, r.Seq)
	c.mu.Unlock()
	if !ok {
		// Not a request we saw (cannot happen with net/rpc's server); reply plainly.
		return c.write(r, body)
	}
	// The call holds its slot until its reply is written, here or by a
	// goroutine of the codec: apply gives it back.
	if _, ok := p.d.Fault.(faults.Hang); ok {
		// Nothing will be written: a delay before it changes nothing.
		c.host.Hung(p.id, time.Now())
		c.slots.release()
		return nil
	}
	if p.d.DelayRule >= 0 {
		if wait := time.Until(p.received.Add(p.d.Delay)); wait > 0 {
			// net/rpc reuses r once we return: the goroutine gets a copy.
			resp := *r
			c.spawn(func() {
				if c.sleep(wait) {
					_ = c.apply(p, &resp, body)
				} else {
					c.abort(p.id, "connection closed during delay")
					c.slots.release()
				}
			})
			return nil
		}
	}
	return c.apply(p, r, body)
}

// apply ends the call as its outcome fault says, once its delay has
// passed, and gives back its slot once its reply is written (or will
// never be). Replies written later by a goroutine use a copy of r, which
// net/rpc reuses once WriteResponse returns.
func (c *serverCodec) apply(p pending, r *rpc.Response, body any) error {
	copyOf := func(r *rpc.Response) *rpc.Response { c := *r; return &c }
	switch f := p.d.Fault.(type) {
	case faults.Throttle:
		resp := copyOf(r)
		c.spawn(func() { defer c.slots.release(); c.paced(p.id, resp, body, max(f.Rate/100, 1), 10*time.Millisecond) })
		return nil
	case faults.Slice:
		resp := copyOf(r)
		c.spawn(func() { defer c.slots.release(); c.paced(p.id, resp, body, f.Size, f.Gap) })
		return nil
	}
	defer c.slots.release()
	switch f := p.d.Fault.(type) {
	case faults.Error:
		r = copyOf(r)
		r.Error = f.Msg
	case faults.Drop:
		c.abort(p.id, "dropped")
		c.cut(p, "drop")
		return c.conn.Close()
	case faults.Reset:
		c.abort(p.id, "reset")
		c.cut(p, "reset")
		if tc, ok := c.conn.(interface{ SetLinger(sec int) error }); ok {
			_ = tc.SetLinger(0) // *net.TCPConn, or a wrapper of one
		}
		return c.conn.Close()
	case faults.Crash:
		c.abort(p.id, "server crashed")
		c.cut(p, "crash")
		c.host.Crash()
		return nil
	case faults.Hold:
		c.hold(p.id, copyOf(r), body)
		return nil
	case faults.Corrupt, faults.Truncate:
		return c.mangle(p, r, body)
	}
	return c.reply(p.id, r, body)
}

// hold hands the reply to the host, which sends it when the test releases
// it, unless the connection closes first.
func (c *serverCodec) hold(id int, r *rpc.Response, body any) {
	send := func() {
		c.mu.Lock()
		_, ok := c.held[id]
		delete(c.held, id)
		c.mu.Unlock()
		if ok {
			_ = c.reply(id, r, body)
		}
	}
	c.mu.Lock()
	closed := c.held == nil
	if !closed {
		c.host.Held(id, time.Now())
		c.held[id] = c.host.Hold(send)
	}
	c.mu.Unlock()
	if closed {
		c.abort(id, "connection closed")
	}
}

// abort records that call id ended without a reply, and why.
func (c *serverCodec) abort(id int, why string) {
	c.host.Aborted(id, why, time.Now())
}

// spawn runs fn on a goroutine that Close waits for.
func (c *serverCodec) spawn(fn func()) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		fn()
	}()
}

// stop wakes every slow reply, which then gives up. It is safe to call
// more than once.
func (c *serverCodec) stop() { c.doneOnce.Do(func() { close(c.done) }) }

// sleep waits d; false if the codec closed first.
func (c *serverCodec) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.done:
		return false
	}
}

// encode encodes a reply into a buffer instead of the connection. c.wmu
// must be held until the bytes are written: the encoder's type information
// for the stream may be in them.
func (c *serverCodec) encode(r *rpc.Response, body any) ([]byte, error) {
	var b bytes.Buffer
	c.out.w = &b
	defer func() { c.out.w = c.buf }()
	if err := c.wire.WriteResponse(r, body); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// mangle writes random bytes instead of the reply (Corrupt) or half of it
// (Truncate), then closes the connection.
func (c *serverCodec) mangle(p pending, r *rpc.Response, body any) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	b, err := c.encode(r, body)
	if err != nil {
		c.abort(p.id, err.Error())
		return c.conn.Close()
	}
	what, kind := "truncated", "truncate"
	if _, ok := p.d.Fault.(faults.Corrupt); ok {
		what, kind = "corrupted", "corrupt"
		rng := rand.New(rand.NewPCG(p.d.Noise, 0))
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
	} else {
		b = b[:len(b)/2]
	}
	c.abort(p.id, what)
	c.cut(p, kind)
	_, _ = c.buf.Write(b)
	_ = c.buf.Flush()
	return c.conn.Close()
}

// paced writes a reply chunk bytes at a time with gap between chunks,
// holding the connection's writer throughout, as a slow link would.
func (c *serverCodec) paced(id int, r *rpc.Response, body any, chunk int64, gap time.Duration) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	b, err := c.encode(r, body)
	if err != nil {
		c.abort(id, err.Error())
		c.conn.Close()
		return
	}
	for len(b) > 0 {
		n := min(int64(len(b)), chunk)
		var at time.Time
		if int64(len(b)) == n {
			// The last chunk completes the reply: record it first, as reply does.
			at = time.Now()
			c.host.Replied(id, r.Error, at)
		}
		if _, err := c.conn.Write(b[:n]); err != nil {
			c.abort(id, err.Error())
			return
		}
		b = b[n:]
		if len(b) == 0 {
			c.wrote(id, at)
		}
		if len(b) > 0 && !c.sleep(gap) {
			c.abort(id, "connection closed while writing")
			return
		}
	}
}

// reply writes a response and records how the call ended. The reply is
// recorded just before it is written, so a client never sees a reply that
// the journal does not hold yet; a failed write is recorded again as Aborted.
func (c *serverCodec) reply(id int, r *rpc.Response, body any) error {
	at := time.Now()
	c.host.Replied(id, r.Error, at)
	err := c.write(r, body)
	if err != nil {
		c.abort(id, err.Error())
		return err
	}
	c.wrote(id, at)
	return nil
}

func (c *serverCodec) write(r *rpc.Response, body any) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.wire.WriteResponse(r, body); err != nil {
		if c.buf.Flush() == nil {
			// Could not encode the reply: the stream is broken.
			c.conn.Close()
		}
		return err
	}
	return c.buf.Flush()
}

// Close closes the connection, abandons slow replies and waits for their
// goroutines to exit. It is safe to call more than once.
func (c *serverCodec) Close() error {
	var err error
	c.closeOnce.Do(func() {
		c.stop()
		err = c.conn.Close()
		c.wg.Wait()
		// Calls still pending will never be answered.
		c.mu.Lock()
		ps, held := c.pending, c.held
		c.pending, c.held = nil, nil
		c.mu.Unlock()
		for _, p := range ps {
			c.abort(p.id, "connection closed")
		}
		for id, forget := range held {
			forget()
			c.abort(id, "connection closed while the reply was held")
		}
	})
	return err
}
