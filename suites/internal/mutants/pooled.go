package mutants

import (
	"context"
	"errors"
	"net"
	"net/rpc"
	"sync"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// errPoolClosed is the error of a call made after the pool closed.
var errPoolClosed = errors.New("pool closed")

// pooled is a fan-out caller the way a long-lived service writes one: a
// goroutine per address, a WaitGroup, outcomes by index, and one
// connection per address kept for every fan-out to share. The suite gets
// its Close through suites.Closing.
type pooled struct {
	timeout time.Duration
	// broken says whether a call's error means its connection is broken
	// and must be closed and redialled.
	broken func(err error) bool
	// flights, if not nil, coalesces concurrent calls to one address.
	flights *flights

	mu      sync.Mutex
	clients map[string]*rpc.Client
	closed  bool
}

// newPooled returns a constructor of pooled callers.
func newPooled(broken func(error) bool, coalesce bool) func(time.Duration) suites.FanOuter {
	return func(timeout time.Duration) suites.FanOuter {
		p := &pooled{timeout: timeout, broken: broken, clients: map[string]*rpc.Client{}}
		if coalesce {
			p.flights = &flights{m: map[string]*flight{}}
		}
		return suites.Closing(p.fanOut, p.Close)
	}
}

// connBroken is the pooled control's test: an error reply is the server's
// answer, and leaves the connection sound; any other error does not.
func connBroken(err error) bool {
	var se rpc.ServerError
	return !errors.As(err, &se)
}

func (p *pooled) fanOut(ctx context.Context, addrs []string, args fleet.Args) ([]suites.Result, error) {
	out := make([]suites.Result, len(addrs))
	var wg sync.WaitGroup
	for i, addr := range addrs {
		wg.Go(func() {
			start := time.Now()
			var (
				reply fleet.Reply
				err   error
			)
			if p.flights != nil {
				reply, err = p.flights.do(addr, func() (fleet.Reply, error) { return p.call(ctx, addr, args) })
			} else {
				reply, err = p.call(ctx, addr, args)
			}
			out[i] = suites.Result{Addr: addr, Reply: reply, Err: err, Latency: time.Since(start)}
		})
	}
	wg.Wait()
	return out, joinErrors(out)
}

// call makes one call on addr's pooled connection, bounded by the timeout
// and ctx.
func (p *pooled) call(ctx context.Context, addr string, args fleet.Args) (fleet.Reply, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	c, err := p.client(ctx, addr)
	if err != nil {
		return fleet.Reply{}, err
	}
	var reply fleet.Reply
	call := c.Go("Service.Method", args, &reply, make(chan *rpc.Call, 1))
	select {
	case <-call.Done:
		if call.Error != nil && p.broken(call.Error) {
			p.drop(addr, c)
		}
		return reply, call.Error
	case <-ctx.Done():
		return fleet.Reply{}, ctx.Err()
	}
}

// client returns addr's pooled connection, dialling one under ctx if
// there is none.
func (p *pooled) client(ctx context.Context, addr string) (*rpc.Client, error) {
	p.mu.Lock()
	c, closed := p.clients[addr], p.closed
	p.mu.Unlock()
	if closed {
		return nil, errPoolClosed
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
		return nil, errPoolClosed
	}
	if old := p.clients[addr]; old != nil { // another fan-out dialled first
		c.Close()
		return old, nil
	}
	p.clients[addr] = c
	return c, nil
}

// drop closes c and forgets it, if it is still addr's connection.
func (p *pooled) drop(addr string, c *rpc.Client) {
	p.mu.Lock()
	if p.clients[addr] == c {
		delete(p.clients, addr)
	}
	p.mu.Unlock()
	c.Close()
}

// Close closes every pooled connection.
func (p *pooled) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for addr, c := range p.clients {
		c.Close()
		delete(p.clients, addr)
	}
	return nil
}
