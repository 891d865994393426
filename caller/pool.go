package caller

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/rpc"
	"sync"
	"sync/atomic"
)

// ErrClosed is returned for calls made through a closed Caller.
var ErrClosed = errors.New("caller: closed")

// pool keeps one rpc.Client per address. It is safe for concurrent use.
//
// A connection leaves the pool in one of three ways. A broken one (the
// server closed it, a network error) is discarded: closed at once, since
// every call on it fails anyway. One holding too many abandoned calls is
// retired: new calls go to a fresh connection, and the old one is closed
// as soon as no call that somebody still waits for is in flight on it, so
// recycling never fails another fan-out's healthy call. One whose last call
// ends while the pool holds more than WithMaxConns is retired the same way.
// Close closes everything, retired connections and dials in progress
// included.
type pool struct {
	cfg  *config
	done chan struct{} // closed by close: ends backoff sleeps

	mu       sync.Mutex
	closed   bool
	conns    map[string]*conn
	retiring map[*conn]struct{} // retired, waiting for their active calls
}

// conn is one pooled client; ready is closed once the dial has finished.
type conn struct {
	ready  chan struct{}
	client *rpc.Client
	err    error
	cancel context.CancelFunc // cancels the dial in progress

	active    atomic.Int64 // calls in flight whose caller still waits
	abandoned atomic.Int64 // calls given up on since the dial
	retired   atomic.Bool
	closed    atomic.Bool
}

func newPool(cfg *config) *pool {
	return &pool{
		cfg:      cfg,
		done:     make(chan struct{}),
		conns:    make(map[string]*conn),
		retiring: make(map[*conn]struct{}),
	}
}

// get returns the client for addr, dialling it if there is none. On
// success, the caller has one active call counted on the connection and
// must end it with release. With ctx already ended it returns ctx's error,
// so that nothing is sent for a fan-out given up on.
func (p *pool) get(ctx context.Context, addr string) (*conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	redialled := false
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, ErrClosed
		}
		cn := p.conns[addr]
		if cn == nil {
			cn = &conn{ready: make(chan struct{})}
			ctx, cn.cancel = context.WithCancel(ctx)
			p.conns[addr] = cn
			p.mu.Unlock()
			p.dial(ctx, addr, cn) // counts our call on success
			if cn.err != nil {
				return nil, cn.err
			}
			return cn, nil
		}
		p.mu.Unlock()
		select {
		case <-cn.ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if cn.err == nil {
			if p.take(addr, cn) {
				return cn, nil
			}
			continue // retired or discarded meanwhile: take the next one
		}
		// Another fan-out's dial failed, maybe for its own ctx: dial once
		// ourselves before giving up.
		if redialled {
			return nil, cn.err
		}
		redialled = true
	}
}

// take counts one active call on cn if it is still addr's pooled
// connection. Counting under the lock is what lets retire, which takes
// cn out of the pool under the lock, read the count after and know that
// no call can join it any more.
func (p *pool) take(addr string, cn *conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.conns[addr] != cn {
		return false
	}
	cn.active.Add(1)
	return true
}

// warm returns, for each of addrs, its dialled connection with one active
// call counted on it (to be ended with release), or nil where there is
// none yet, a dial is in progress or the pool is closed: get handles
// those. One lock for the whole fan-out instead of one per address.
func (p *pool) warm(addrs []string) []*conn {
	conns := make([]*conn, len(addrs))
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return conns
	}
	for i, addr := range addrs {
		cn := p.conns[addr]
		if cn == nil {
			continue
		}
		select {
		case <-cn.ready:
			if cn.err == nil {
				cn.active.Add(1)
				conns[i] = cn
			}
		default:
		}
	}
	return conns
}

// dial connects cn, with the handshake of the protocol if it has one; a
// failed entry is removed so the next get redials.
func (p *pool) dial(ctx context.Context, addr string, cn *conn) {
	defer close(cn.ready)
	defer cn.cancel()
	dctx := ctx
	if p.cfg.dialTimeout > 0 {
		var cancel context.CancelFunc
		dctx, cancel = context.WithTimeout(ctx, p.cfg.dialTimeout)
		defer cancel()
	}
	var (
		c   net.Conn
		err error
	)
	switch {
	case p.cfg.protocol < Gob || p.cfg.protocol > JSONRPC:
		err = fmt.Errorf("caller: unknown %v", p.cfg.protocol)
	case p.cfg.dial != nil:
		c, err = p.cfg.dial(dctx, addr)
	default:
		var d net.Dialer
		c, err = d.DialContext(dctx, network(addr), addr)
	}
	if err == nil && p.cfg.protocol == HTTP {
		if err = connectHTTP(dctx, c); err != nil {
			c.Close()
			c = nil
		}
	}
	if err != nil && !endedBy(ctx, err) && endedBy(dctx, err) {
		err = &TimeoutError{After: p.cfg.dialTimeout, Dial: true} // the dial's own timeout, not the call's
	}
	var client *rpc.Client
	if err == nil {
		client = newClient(p.cfg.protocol, c) // outside the lock: 100,000 dials at once queue on it
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		// Close came first, and may have cancelled the dial itself.
		if client != nil {
			client.Close()
		}
		err = ErrClosed
	}
	if err != nil {
		cn.err = err
		if p.conns[addr] == cn {
			delete(p.conns, addr)
		}
		return
	}
	cn.client = client
	cn.active.Add(1) // the dialling get's call, counted before anyone can retire cn
}

// release ends one active call on cn, got from get. An abandoned call
// (given up on timeout or cancellation: its reply, if any, is dropped) is
// counted, and a connection holding too many is retired.
func (p *pool) release(addr string, cn *conn, abandoned bool) {
	if abandoned && p.cfg.maxAbandon > 0 && cn.abandoned.Add(1) >= int64(p.cfg.maxAbandon) {
		p.retire(addr, cn)
	}
	if cn.active.Add(-1) != 0 {
		return
	}
	switch {
	case cn.retired.Load():
		p.closeConn(cn)
	case p.cfg.maxConns > 0:
		p.retireAbove(addr, cn, p.cfg.maxConns)
	}
}

// retire takes cn out of the pool, so the next get redials, and closes it
// once no active call is left on it; Close closes it in any case.
func (p *pool) retire(addr string, cn *conn) { p.retireAbove(addr, cn, -1) }

// retireAbove retires cn as retire does, but only if it is addr's pooled
// connection and the pool holds more than bound connections, dials in
// progress included (bound < 0: in any case). Check and removal are one
// step under the lock, so that two calls ending at once cannot both find
// the pool over its bound and leave it under.
func (p *pool) retireAbove(addr string, cn *conn, bound int) {
	p.mu.Lock()
	pooled := p.conns[addr] == cn
	if bound >= 0 && (!pooled || len(p.conns) <= bound) {
		p.mu.Unlock()
		return
	}
	if pooled {
		delete(p.conns, addr)
	}
	if !p.closed && !cn.closed.Load() {
		p.retiring[cn] = struct{}{}
	}
	p.mu.Unlock()
	cn.retired.Store(true)
	if cn.active.Load() == 0 {
		p.closeConn(cn)
	}
}

// discard closes a broken cn now and forgets it, so the next get redials.
func (p *pool) discard(addr string, cn *conn) {
	p.mu.Lock()
	if p.conns[addr] == cn {
		delete(p.conns, addr)
	}
	p.mu.Unlock()
	cn.retired.Store(true)
	p.closeConn(cn)
}

// closeConn closes cn's client once, which fails every call still pending
// on it (abandoned ones included) and ends its reader goroutine.
func (p *pool) closeConn(cn *conn) error {
	if !cn.closed.CompareAndSwap(false, true) {
		return nil
	}
	p.mu.Lock()
	delete(p.retiring, cn)
	p.mu.Unlock()
	if err := cn.client.Close(); err != nil && !errors.Is(err, rpc.ErrShutdown) {
		return err
	}
	return nil
}

// callErr is the error of a call that ended on cn: rpc.ErrShutdown if the
// pool closed cn under it (net/rpc then reports ErrShutdown or, racing, the
// read error "use of closed network connection"), else err.
func callErr(cn *conn, err error) error {
	if err != nil && cn.closed.Load() && errors.Is(err, net.ErrClosed) {
		return rpc.ErrShutdown
	}
	return err
}

// broken reports whether err means the connection is unusable.
func broken(err error) bool {
	if err == nil {
		return false
	}
	var se rpc.ServerError
	if errors.As(err, &se) {
		return false
	}
	return errors.Is(err, rpc.ErrShutdown) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.EOF) || errors.As(err, new(net.Error))
}

// close closes every client, cancels dials in progress (which close
// their connection when done) and ends backoff sleeps.
func (p *pool) close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	close(p.done)
	var open []*conn
	for addr, cn := range p.conns {
		delete(p.conns, addr)
		select {
		case <-cn.ready:
			if cn.client != nil {
				open = append(open, cn)
			}
		default:
			// Still dialling: dial sees closed and closes the connection.
			cn.cancel()
		}
	}
	for cn := range p.retiring {
		open = append(open, cn)
	}
	p.mu.Unlock()
	var errs []error
	for _, cn := range open {
		if err := p.closeConn(cn); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
