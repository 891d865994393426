package caller

import (
	"context"
	"errors"
	"io"
	"net"
	"net/rpc"
	"sync"
	"sync/atomic"
)

// ErrClosed is returned for calls made through a closed Caller.
var ErrClosed = errors.New("caller: closed")

// pool keeps one rpc.Client per address. It is safe for concurrent use.
type pool struct {
	cfg *config

	mu     sync.Mutex
	closed bool
	conns  map[string]*conn
}

// conn is one pooled client; ready is closed once the dial has finished.
type conn struct {
	ready     chan struct{}
	client    *rpc.Client
	err       error
	abandoned atomic.Int64
}

func newPool(cfg *config) *pool {
	return &pool{cfg: cfg, conns: make(map[string]*conn)}
}

// get returns the client for addr, dialling it if there is none.
func (p *pool) get(ctx context.Context, addr string) (*conn, error) {
	for attempt := 0; ; attempt++ {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, ErrClosed
		}
		cn := p.conns[addr]
		if cn == nil {
			cn = &conn{ready: make(chan struct{})}
			p.conns[addr] = cn
			p.mu.Unlock()
			p.dial(ctx, addr, cn)
			return cn, cn.err
		}
		p.mu.Unlock()
		select {
		case <-cn.ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if cn.err == nil {
			return cn, nil
		}
		// Another fan-out's dial failed, maybe for its own ctx: dial once
		// ourselves before giving up.
		if attempt > 0 {
			return nil, cn.err
		}
	}
}

// dial connects cn; a failed entry is removed so the next get redials.
func (p *pool) dial(ctx context.Context, addr string, cn *conn) {
	defer close(cn.ready)
	if p.cfg.dialTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.cfg.dialTimeout)
		defer cancel()
	}
	var (
		c   net.Conn
		err error
	)
	if p.cfg.dial != nil {
		c, err = p.cfg.dial(ctx, addr)
	} else {
		var d net.Dialer
		c, err = d.DialContext(ctx, "tcp", addr)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err == nil && p.closed {
		c.Close()
		err = ErrClosed
	}
	if err != nil {
		cn.err = err
		if p.conns[addr] == cn {
			delete(p.conns, addr)
		}
		return
	}
	cn.client = rpc.NewClient(c)
}

// discard closes cn and forgets it, so the next get redials.
func (p *pool) discard(addr string, cn *conn) {
	p.mu.Lock()
	if p.conns[addr] == cn {
		delete(p.conns, addr)
	}
	p.mu.Unlock()
	cn.client.Close()
}

// abandon counts a call given up on; a connection holding too many is
// recycled, which fails its pending calls and frees them.
func (p *pool) abandon(addr string, cn *conn) {
	if p.cfg.maxAbandon > 0 && cn.abandoned.Add(1) >= int64(p.cfg.maxAbandon) {
		p.discard(addr, cn)
	}
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

// close closes every client; dials in progress close theirs when done.
func (p *pool) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	var errs []error
	for addr, cn := range p.conns {
		delete(p.conns, addr)
		select {
		case <-cn.ready:
			if cn.client != nil {
				if err := cn.client.Close(); err != nil && !errors.Is(err, rpc.ErrShutdown) {
					errs = append(errs, err)
				}
			}
		default:
			// Still dialling: dial sees closed and closes the connection.
		}
	}
	return errors.Join(errs...)
}
