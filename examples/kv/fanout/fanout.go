// Package fanout is a KV client the way a team would write it: Get asks
// every server for a key, a goroutine per server joined by a WaitGroup,
// each call bounded by a timeout, one connection per server kept for the
// next fan-out. It is the code under test of the example's conformance
// suites (under plain go test here, under Ginkgo in examples/kv/specs)
// and of the experiment in this package's tests.
package fanout

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/rpc"
	"os"
	"sync"
	"time"

	"github.com/rpcfleet/rpcfleet/examples/kv/kv"
)

// Client fans KV.Get out to many servers. Its methods are safe for
// concurrent use. Close it when done.
type Client struct {
	timeout time.Duration
	dial    func(ctx context.Context, addr string) (net.Conn, error)
	mu      sync.Mutex
	conns   map[string]*rpc.Client
	closed  bool
}

// Option configures a Client.
type Option func(*Client)

// WithDialer makes the Client connect with dial instead of over TCP: a
// test's in-memory fleet (fleet.Fleet.Dial), a proxy.
func WithDialer(dial func(ctx context.Context, addr string) (net.Conn, error)) Option {
	return func(c *Client) { c.dial = dial }
}

// New returns a Client whose calls (dial and reply) fail after timeout,
// with no connection yet; the caller must Close it.
func New(timeout time.Duration, opts ...Option) *Client {
	var d net.Dialer
	c := &Client{timeout: timeout, conns: map[string]*rpc.Client{}}
	c.dial = func(ctx context.Context, addr string) (net.Conn, error) { return d.DialContext(ctx, "tcp", addr) }
	for _, o := range opts {
		o(c)
	}
	return c
}

// Result is one server's answer to Get: its value, or why there is none.
type Result struct {
	Value string
	Err   error // nil if the server replied with a value
}

// Close closes every connection. Fan-outs in flight fail.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for addr, rc := range c.conns {
		rc.Close()
		delete(c.conns, addr)
	}
	return nil
}

// Get asks every server at addrs for key and returns their answers by
// index: results[i] is addrs[i]'s. err joins the failed servers' errors,
// each naming its address; a call fails when ctx ends or its timeout
// passes before its reply.
func (c *Client) Get(ctx context.Context, addrs []string, key string) (results []Result, err error) {
	results = make([]Result, len(addrs))
	errs := make([]error, len(addrs))
	var wg sync.WaitGroup
	for i, addr := range addrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := c.get(ctx, addr, key)
			results[i] = Result{Value: v, Err: err}
			if err != nil {
				errs[i] = fmt.Errorf("fanout: %s: %w", addr, err)
			}
		}()
	}
	wg.Wait()
	return results, errors.Join(errs...)
}

// get calls KV.Get on one server and waits for its reply, ctx or the
// timeout.
func (c *Client) get(ctx context.Context, addr, key string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	rc, err := c.conn(ctx, addr)
	if err != nil {
		return "", err
	}
	var r kv.GetReply
	call := rc.Go("KV.Get", kv.GetArgs{Key: key}, &r, make(chan *rpc.Call, 1))
	select {
	case <-ctx.Done():
		return "", ctx.Err() // the late reply is dropped
	case <-call.Done:
	}
	var se rpc.ServerError
	if call.Error != nil && !errors.As(call.Error, &se) {
		c.forget(addr, rc) // the connection is broken: dial again next time
	}
	return r.Value, call.Error
}

// conn returns the connection to addr, dialling it the first time.
func (c *Client) conn(ctx context.Context, addr string) (*rpc.Client, error) {
	c.mu.Lock()
	rc, closed := c.conns[addr], c.closed
	c.mu.Unlock()
	if closed {
		return nil, rpc.ErrShutdown
	}
	if rc != nil {
		return rc, nil
	}
	nc, err := c.dial(ctx, addr)
	if err != nil && (ctx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded)) {
		// A dial cut short by ctx or by its deadline (whose timer inside
		// net may fire just before ctx's) reports an i/o timeout: say it
		// was ctx.
		return nil, fmt.Errorf("%w: %w", cmp.Or(ctx.Err(), context.DeadlineExceeded), err)
	}
	if err != nil {
		return nil, err
	}
	rc = rpc.NewClient(nc)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		rc.Close()
		return nil, rpc.ErrShutdown
	}
	if old := c.conns[addr]; old != nil { // another fan-out dialled first
		rc.Close()
		return old, nil
	}
	c.conns[addr] = rc
	return rc, nil
}

// forget closes rc and drops it, unless another connection replaced it.
func (c *Client) forget(addr string, rc *rpc.Client) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conns[addr] == rc {
		delete(c.conns, addr)
	}
	rc.Close()
}
