package mutants

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
	"github.com/rpcfleet/rpcfleet/examples/kv/kvtest"
	"github.com/rpcfleet/rpcfleet/suites"
)

// kvBug is the one bug a KV mutant puts into the example's client.
type kvBug int

const (
	noBug          kvBug = iota // the control: the client as examples/kv/fanout has it
	nextShard                   // an off-by-one sends the key meant for addrs[i] to addrs[i+1]
	zeroOnBadReply              // a call that ends in anything but an error reply is an empty value
	arrivalOrder                // values are written in the order replies arrive, errors by index
)

// gets returns the suite's constructor of a kvClient with bug, adapted as
// kvtest.NewClient adapts fanout.Client.
func gets(bug kvBug) func(time.Duration) suites.FanOuterOf[kv.GetArgs, kv.GetReply] {
	return func(timeout time.Duration) suites.FanOuterOf[kv.GetArgs, kv.GetReply] {
		c := &kvClient{bug: bug, timeout: timeout, conns: map[string]*rpc.Client{}}
		return suites.Closing(func(ctx context.Context, addrs []string, args kv.GetArgs) ([]suites.ResultOf[kv.GetReply], error) {
			results, err := c.Get(ctx, addrs, args.Key)
			out := make([]suites.ResultOf[kv.GetReply], len(results))
			for i, r := range results {
				out[i] = suites.ResultOf[kv.GetReply]{Addr: addrs[i], Reply: kv.GetReply{Value: r.Value}, Err: r.Err}
			}
			return out, err
		}, c.Close)
	}
}

// Get is the call of the KV mutants and their control.
func Get() suites.Call[kv.GetArgs, kv.GetReply] { return kvtest.Get }

// kvClient is examples/kv/fanout.Client, copied line for line so that a
// mutant can break it in one place: a goroutine per server, a WaitGroup,
// a per-call timeout, one pooled connection per server.
type kvClient struct {
	bug     kvBug
	timeout time.Duration
	mu      sync.Mutex
	conns   map[string]*rpc.Client
	closed  bool
}

type kvResult struct {
	Value string
	Err   error
}

func (c *kvClient) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for addr, rc := range c.conns {
		rc.Close()
		delete(c.conns, addr)
	}
	return nil
}

func (c *kvClient) Get(ctx context.Context, addrs []string, key string) ([]kvResult, error) {
	results := make([]kvResult, len(addrs))
	errs := make([]error, len(addrs))
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		arrived int
	)
	for i, addr := range addrs {
		if c.bug == nextShard {
			addr = addrs[(i+1)%len(addrs)] // BUG: addrs[i]'s key, sent to the next address
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := c.get(ctx, addr, key)
			if c.bug == arrivalOrder {
				mu.Lock()
				results[arrived].Value = v // BUG: the arrival's slot, not the address's
				results[i].Err = err
				arrived++
				mu.Unlock()
			} else {
				results[i] = kvResult{Value: v, Err: err}
			}
			if err != nil {
				errs[i] = fmt.Errorf("fanout: %s: %w", addrs[i], err)
			}
		}()
	}
	wg.Wait()
	return results, errors.Join(errs...)
}

func (c *kvClient) get(ctx context.Context, addr, key string) (string, error) {
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
		return "", ctx.Err()
	case <-call.Done:
	}
	var se rpc.ServerError
	if call.Error != nil && !errors.As(call.Error, &se) {
		c.forget(addr, rc)
		if c.bug == zeroOnBadReply {
			return "", nil // BUG: "no value" rather than an error
		}
	}
	return r.Value, call.Error
}

func (c *kvClient) conn(ctx context.Context, addr string) (*rpc.Client, error) {
	c.mu.Lock()
	rc, closed := c.conns[addr], c.closed
	c.mu.Unlock()
	if closed {
		return nil, rpc.ErrShutdown
	}
	if rc != nil {
		return rc, nil
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil && (ctx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded)) {
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
	if old := c.conns[addr]; old != nil {
		rc.Close()
		return old, nil
	}
	c.conns[addr] = rc
	return rc, nil
}

func (c *kvClient) forget(addr string, rc *rpc.Client) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conns[addr] == rc {
		delete(c.conns, addr)
	}
	rc.Close()
}
