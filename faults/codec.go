package faults

import (
	"bufio"
	"encoding/gob"
	"io"
	"net/rpc"
	"sync"
	"time"
)

// Outcome says how a call ended on the server.
type Outcome int

const (
	// Pending: the call was received and has not ended yet.
	Pending Outcome = iota
	// OK: a normal reply was written.
	OK
	// Failed: an error reply was written (injected or returned by the method).
	Failed
	// Hung: the reply was swallowed by a Hang fault.
	Hung
	// Aborted: the connection closed before the reply could be written.
	Aborted
)

func (o Outcome) String() string {
	switch o {
	case Pending:
		return "pending"
	case OK:
		return "ok"
	case Failed:
		return "error"
	case Hung:
		return "hung"
	case Aborted:
		return "aborted"
	}
	return "unknown"
}

// Recorder is told about the life of every call through a ServerCodec.
// Received is called once per request, before the method runs. Ended is
// called when the call ends: just before its reply is written (OK or
// Failed), when its reply is swallowed (Hung), or when the connection
// closes first (Aborted). A reply whose write fails is reported again as
// Aborted. Implementations must be safe for concurrent use.
type Recorder interface {
	Received(method string, seq uint64, d Decision, at time.Time) (id int)
	Ended(id int, o Outcome, errText string, at time.Time)
}

// NewServerCodec returns a gob rpc.ServerCodec, wire-compatible with
// net/rpc's own, that applies eng's decisions to every call and reports to
// rec. r is read from (it may buffer ahead of conn); replies go to conn.
//
// Delayed replies are written later by a goroutine of the codec, so a delay
// never holds up other replies on the same connection. Close closes conn and
// returns only when every such goroutine has exited.
func NewServerCodec(conn io.ReadWriteCloser, r io.Reader, eng *Engine, rec Recorder) rpc.ServerCodec {
	buf := bufio.NewWriter(conn)
	return &serverCodec{
		conn:    conn,
		dec:     gob.NewDecoder(r),
		enc:     gob.NewEncoder(buf),
		buf:     buf,
		eng:     eng,
		rec:     rec,
		pending: make(map[uint64]pending),
		done:    make(chan struct{}),
	}
}

type pending struct {
	id       int
	d        Decision
	received time.Time
}

type serverCodec struct {
	conn io.ReadWriteCloser
	dec  *gob.Decoder
	eng  *Engine
	rec  Recorder

	wmu sync.Mutex // guards enc and buf: delayed replies write outside net/rpc's lock
	enc *gob.Encoder
	buf *bufio.Writer

	mu      sync.Mutex
	pending map[uint64]pending // by request Seq

	done      chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup // delayed writers
}

func (c *serverCodec) ReadRequestHeader(r *rpc.Request) error {
	if err := c.dec.Decode(r); err != nil {
		return err
	}
	now := time.Now()
	d := c.eng.Decide(r.ServiceMethod)
	id := c.rec.Received(r.ServiceMethod, r.Seq, d, now)
	c.mu.Lock()
	if c.pending != nil {
		c.pending[r.Seq] = pending{id: id, d: d, received: now}
	}
	c.mu.Unlock()
	return nil
}

func (c *serverCodec) ReadRequestBody(body any) error {
	return c.dec.Decode(body)
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
	switch f := p.d.Fault.(type) {
	case Hang:
		c.rec.Ended(p.id, Hung, "", time.Now())
		return nil
	case Error:
		resp := *r
		resp.Error = f.Msg
		return c.reply(p.id, &resp, body)
	case Delay:
		wait := time.Until(p.received.Add(p.d.Delay))
		if wait <= 0 {
			break
		}
		// net/rpc reuses r once we return: keep a copy.
		resp := *r
		c.wg.Add(1)
		go c.later(p.id, wait, &resp, body)
		return nil
	}
	return c.reply(p.id, r, body)
}

// later writes a delayed reply, unless the codec closes first.
func (c *serverCodec) later(id int, wait time.Duration, r *rpc.Response, body any) {
	defer c.wg.Done()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		_ = c.reply(id, r, body)
	case <-c.done:
		c.rec.Ended(id, Aborted, "", time.Now())
	}
}

// reply writes a response and records how the call ended. The reply is
// recorded just before it is written, so a client never sees a reply that
// the journal does not hold yet; a failed write is recorded again as Aborted.
func (c *serverCodec) reply(id int, r *rpc.Response, body any) error {
	o := OK
	if r.Error != "" {
		o = Failed
	}
	c.rec.Ended(id, o, r.Error, time.Now())
	err := c.write(r, body)
	if err != nil {
		c.rec.Ended(id, Aborted, err.Error(), time.Now())
	}
	return err
}

func (c *serverCodec) write(r *rpc.Response, body any) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.enc.Encode(r); err != nil {
		if c.buf.Flush() == nil {
			// Could not encode the header: the stream is broken.
			c.conn.Close()
		}
		return err
	}
	if err := c.enc.Encode(body); err != nil {
		if c.buf.Flush() == nil {
			c.conn.Close()
		}
		return err
	}
	return c.buf.Flush()
}

// Close closes the connection, abandons delayed replies and waits for their
// goroutines to exit. It is safe to call more than once.
func (c *serverCodec) Close() error {
	var err error
	c.closeOnce.Do(func() {
		close(c.done)
		err = c.conn.Close()
		c.wg.Wait()
		// Calls still pending will never be answered.
		c.mu.Lock()
		ps := c.pending
		c.pending = nil
		c.mu.Unlock()
		now := time.Now()
		for _, p := range ps {
			c.rec.Ended(p.id, Aborted, "", now)
		}
	})
	return err
}
