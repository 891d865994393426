package peers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/rpc"
	"os"
	"sync"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
)

// ErrClosed is the error of a call made through a closed Pool.
var ErrClosed = errors.New("peers: pool closed")

// Pool keeps one *rpc.Client per address for every fan-out to share, as a
// long-lived service keeps them: a read lock on the way to a connection,
// a dial under the call's ctx when there is none, and a connection that
// failed other than by an error reply closed and forgotten, so the next
// call redials. Its owner must Close it. It is safe for concurrent use.
type Pool struct {
	mu      sync.RWMutex
	clients map[string]*rpc.Client
	closed  bool
}

// NewPool returns an empty Pool.
func NewPool() *Pool { return &Pool{clients: make(map[string]*rpc.Client)} }

// Call calls Service.Method with args on addr's pooled connection and
// waits for the reply or the end of ctx (net/rpc has no context: the
// call is then abandoned, and its late reply dropped). A call on a
// connection found shut down since the last fan-out (the server closed
// it; nothing was sent) is redialled once.
func (p *Pool) Call(ctx context.Context, addr string, args fleet.Args) (fleet.Reply, error) {
	for attempt := 0; ; attempt++ {
		c, err := p.client(ctx, addr)
		if err != nil {
			return fleet.Reply{}, err
		}
		var reply fleet.Reply
		call := c.Go("Service.Method", args, &reply, make(chan *rpc.Call, 1))
		select {
		case <-call.Done:
		case <-ctx.Done():
			return fleet.Reply{}, ctx.Err()
		}
		if call.Error == nil {
			return reply, nil
		}
		var se rpc.ServerError
		if errors.As(call.Error, &se) {
			return fleet.Reply{}, call.Error // the server's answer: the connection is sound
		}
		p.drop(addr, c)
		if attempt > 0 || !errors.Is(call.Error, rpc.ErrShutdown) {
			return fleet.Reply{}, call.Error
		}
	}
}

// client returns addr's pooled connection, dialling one under ctx if
// there is none.
func (p *Pool) client(ctx context.Context, addr string) (*rpc.Client, error) {
	p.mu.RLock()
	c, closed := p.clients[addr], p.closed
	p.mu.RUnlock()
	if closed {
		return nil, ErrClosed
	}
	if c != nil {
		return c, nil
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, dialError(ctx, err)
	}
	c = rpc.NewClient(conn)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.Close()
		return nil, ErrClosed
	}
	if old := p.clients[addr]; old != nil { // another fan-out dialled first
		c.Close()
		return old, nil
	}
	p.clients[addr] = c
	return c, nil
}

// dialError is err, made to wrap ctx's error too when the dial failed at
// ctx's deadline: the dial's own timer may fire just before ctx's does,
// and then it reports an i/o timeout rather than ctx's error.
func dialError(ctx context.Context, err error) error {
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) && errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
	}
	return err
}

// drop closes c and forgets it, if it is still addr's connection.
func (p *Pool) drop(addr string, c *rpc.Client) {
	p.mu.Lock()
	if p.clients[addr] == c {
		delete(p.clients, addr)
	}
	p.mu.Unlock()
	c.Close()
}

// Close closes every pooled connection, which ends every call waiting on
// one; later calls fail with ErrClosed.
func (p *Pool) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for addr, c := range p.clients {
		c.Close()
		delete(p.clients, addr)
	}
	return nil
}
