package caller

import (
	"context"
	"errors"
	"net/rpc"
	"sync"
	"time"
)

// Caller fans calls out to many addresses. Create it with New and Close it
// when done; it is safe for concurrent use by many fan-outs at once.
type Caller struct {
	cfg  config
	pool *pool
}

// New returns a Caller. The caller must Close it.
func New(opts ...Option) *Caller {
	c := &Caller{cfg: defaults()}
	for _, o := range opts {
		o(&c.cfg)
	}
	c.pool = newPool(&c.cfg)
	return c
}

// Close closes every connection. Fan-outs in flight fail with
// rpc.ErrShutdown; later ones with ErrClosed.
func (c *Caller) Close() error { return c.pool.close() }

// Result is the outcome of one call of a fan-out.
type Result[R any] struct {
	Addr    string        // the address called
	Reply   R             // the reply; the zero value if Err is not nil
	Err     error         // nil on success; see CallError for the causes
	Latency time.Duration // from the start of the call to its end
}

// FanOut calls method with args on every address at once, one goroutine per
// address, and returns when every call has ended: with a reply, an error, the
// per-call timeout or the end of ctx. results[i] is the outcome for addrs[i].
// err is nil if every call succeeded, else a *FanOutError naming exactly the
// failed addresses.
//
// When ctx ends, FanOut returns promptly: calls still in flight fail with
// ctx's error and their late replies are dropped.
func FanOut[A, R any](ctx context.Context, c *Caller, addrs []string, method string, args A) (results []Result[R], err error) {
	results = make([]Result[R], len(addrs))
	if len(addrs) == 0 {
		return results, nil
	}
	// Every call starts now, so one deadline bounds them all.
	callCtx := ctx
	if c.cfg.timeout > 0 {
		var cancel context.CancelFunc
		callCtx, cancel = context.WithTimeout(ctx, c.cfg.timeout)
		defer cancel()
	}
	var wg sync.WaitGroup
	for i, addr := range addrs {
		wg.Go(func() {
			results[i] = call[A, R](ctx, callCtx, c, addr, method, args)
		})
	}
	wg.Wait()

	var failed []*CallError
	for i, r := range results {
		if r.Err != nil {
			failed = append(failed, &CallError{Index: i, Addr: r.Addr, Err: r.Err})
		}
	}
	if failed != nil {
		return results, &FanOutError{Calls: len(addrs), Errs: failed}
	}
	return results, nil
}

// call makes one call; ctx is the fan-out's, callCtx adds the timeout.
func call[A, R any](ctx, callCtx context.Context, c *Caller, addr, method string, args A) Result[R] {
	start := time.Now()
	res := Result[R]{Addr: addr}
	reply, err := roundTrip[A, R](callCtx, c, addr, method, args)
	res.Latency = time.Since(start)
	switch {
	case err == nil:
		res.Reply = *reply
	case callCtx.Err() != nil && ctx.Err() == nil && errors.Is(err, callCtx.Err()):
		res.Err = &TimeoutError{After: c.cfg.timeout}
	default:
		res.Err = err
	}
	return res
}

func roundTrip[A, R any](ctx context.Context, c *Caller, addr, method string, args A) (*R, error) {
	reply := new(R)
	for attempt := 0; ; attempt++ {
		cn, err := c.pool.get(ctx, addr)
		if err != nil {
			return nil, err
		}
		call := cn.client.Go(method, args, reply, make(chan *rpc.Call, 1))
		var done *rpc.Call
		select {
		case done = <-call.Done:
			// Ended inside Go: a client already shut down (the server
			// closed the connection since the last fan-out) never sent
			// the request, so redial once, transparently.
			if attempt == 0 && errors.Is(done.Error, rpc.ErrShutdown) {
				c.pool.discard(addr, cn)
				continue
			}
		default:
			select {
			case done = <-call.Done:
			case <-ctx.Done():
				c.pool.abandon(addr, cn)
				return nil, ctx.Err()
			}
		}
		if broken(done.Error) {
			c.pool.discard(addr, cn)
		}
		if done.Error != nil {
			return nil, done.Error
		}
		return reply, nil
	}
}
