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
	cfg     config
	pool    *pool
	groups  map[string]group // from WithGroups: address -> its group
	latency *window          // recent call latencies, for WithHedgeQuantile
}

// New returns a Caller. The caller must Close it.
func New(opts ...Option) *Caller {
	c := &Caller{cfg: defaults()}
	for _, o := range opts {
		o(&c.cfg)
	}
	c.pool = newPool(&c.cfg)
	c.groups = indexGroups(c.cfg.groups)
	if c.cfg.hedgeQuantile > 0 {
		c.latency = newWindow(windowSize)
	}
	return c
}

// Close closes every connection and ends every wait of the fan-outs in
// flight: their calls fail with rpc.ErrShutdown (or ErrClosed if they had
// not started), retry backoffs end at once. Later fan-outs fail with
// ErrClosed.
func (c *Caller) Close() error { return c.pool.close() }

// Result is the outcome of one address of a fan-out.
type Result[R any] struct {
	Addr    string        // the address called
	Reply   R             // the reply; the zero value if Err is not nil
	Err     error         // nil on success; see CallError for the causes
	Latency time.Duration // from the first call for Addr to the end of the last, backoffs included

	// Attempts counts the calls sent for Addr: the first, its retries and
	// the hedges sent to other addresses on its behalf. A call whose dial
	// failed counts; 0 means nothing was sent (cancelled before its turn).
	Attempts int

	// Hedged is true when a hedge won: Reply came from From, a member of
	// Addr's group, and not from Addr itself.
	Hedged bool

	// From is the address that sent Reply: Addr, or the hedge target that
	// won. Empty if there is no reply.
	From string

	// Cancelled is true when the call was given up before it ended, by
	// the fan-out's strategy or by ctx. A call cancelled by the strategy
	// (fail-fast after another address failed, quorum reached or made
	// impossible) has an Err that is ErrCancelled and is not a failure:
	// it is not in the aggregate error, since its server did nothing
	// wrong. A call cancelled because ctx ended has ctx's error and is in
	// the aggregate error: the fan-out did not get its answer.
	// net/rpc has no way to cancel a call on the server: a cancelled call
	// already sent is abandoned, and its late reply dropped.
	Cancelled bool
}

// FanOut calls method with args on every address and returns one Result
// per address, in input order: results[i] is the outcome for addrs[i]. err
// is nil if every call succeeded (with WithQuorum: if the quorum was
// reached), else a *FanOutError naming exactly the failed addresses; calls
// the strategy cancelled are not among them (see Result.Cancelled).
//
// By default every call starts at once, one goroutine per address, and
// FanOut returns when every call has ended: with a reply, an error, the
// per-call timeout or the end of ctx. The options of New change that:
// WithConcurrency bounds the calls in flight, WithFailFast and WithQuorum
// return early and cancel the rest, WithHedge and WithHedgeQuantile send
// backup calls to other addresses of a group, WithRetry retries failed
// calls, within a WithBudget.
//
// When ctx ends, FanOut returns promptly: calls still in flight fail with
// ctx's error and their late replies are dropped. No goroutine of the
// fan-out remains after it returns. One limit: net/rpc writes a request
// with no deadline, so a server that stops reading, once its socket
// buffers are full (megabytes of requests; the pool retires a connection
// long before with small requests), blocks the write and the fan-out.
// Requests on open connections are written one after another by FanOut
// itself, so such a write also holds up the writes after it.
func FanOut[A, R any](ctx context.Context, c *Caller, addrs []string, method string, args A) (results []Result[R], err error) {
	if len(addrs) == 0 {
		return []Result[R]{}, nil
	}
	if c.cfg.strategic() {
		return fanOutStrategy[A, R](ctx, c, addrs, method, args)
	}
	results = make([]Result[R], len(addrs))
	// Every call starts now, so one deadline bounds them all.
	callCtx := ctx
	if c.cfg.timeout > 0 {
		var cancel context.CancelFunc
		callCtx, cancel = context.WithTimeout(ctx, c.cfg.timeout)
		defer cancel()
	}
	// Requests to addresses with a warm connection are written from this
	// goroutine, one after another, before their goroutines start: 1,000
	// goroutines writing at once from every core cost more than the
	// writes themselves (see BENCHMARKS.md). Each address's goroutine
	// then waits for its reply; addresses that need a dial send from
	// their own goroutine.
	conns := c.pool.warm(addrs)
	done := callCtx.Done()
	var wg sync.WaitGroup
	for i, addr := range addrs {
		var s *sent[R]
		if cn := conns[i]; cn != nil {
			if ended(done) {
				c.pool.release(addr, cn, false)
			} else {
				s = send[A, R](cn, method, args)
			}
		}
		wg.Go(func() {
			results[i] = call[A, R](ctx, callCtx, c, addr, method, args, s)
		})
	}
	wg.Wait()
	return results, aggregate(results, 0)
}

// sent is a call sent by send, for roundTrip to wait for.
type sent[R any] struct {
	cn    *conn
	call  *rpc.Call
	reply *R
	start time.Time
	done  *rpc.Call // the call if it had already ended when send returned
}

// unsent reports whether Go ended the call at once with rpc.ErrShutdown:
// the client was already shut down (the server closed the connection since
// the last fan-out, or the pool retired it), and the request never left.
func (s *sent[R]) unsent() bool {
	return s.done != nil && errors.Is(s.done.Error, rpc.ErrShutdown)
}

// send starts method on cn, whose active call the caller counted.
func send[A, R any](cn *conn, method string, args A) *sent[R] {
	s := &sent[R]{cn: cn, reply: new(R), start: time.Now()}
	s.call = cn.client.Go(method, args, s.reply, make(chan *rpc.Call, 1))
	// Go ends a call on a shut-down client before it returns (see
	// unsent); a fast reply or a write error may be in already too.
	select {
	case s.done = <-s.call.Done:
	default:
	}
	return s
}

// ended reports whether done is closed, without waiting.
func ended(done <-chan struct{}) bool {
	select {
	case <-done:
		return true
	default:
		return false
	}
}

// Call calls method with args on addr through c's pool, with c's timeout,
// retries and budget (and hedges, if addr belongs to a group of
// WithGroups). err is nil or a *CallError.
func Call[A, R any](ctx context.Context, c *Caller, addr, method string, args A) (R, error) {
	results, err := FanOut[A, R](ctx, c, []string{addr}, method, args)
	var fe *FanOutError
	if errors.As(err, &fe) && len(fe.Errs) == 1 {
		return results[0].Reply, fe.Errs[0]
	}
	return results[0].Reply, err
}

// aggregate returns the *FanOutError of results, or nil if none failed;
// need is the quorum (0: none).
func aggregate[R any](results []Result[R], need int) error {
	var (
		failed    []*CallError
		cancelled int
	)
	for i, r := range results {
		if r.Err == nil {
			continue
		}
		if errors.Is(r.Err, ErrCancelled) {
			cancelled++
			continue
		}
		failed = append(failed, &CallError{Index: i, Addr: r.Addr, Err: r.Err})
	}
	if failed == nil {
		return nil
	}
	return &FanOutError{Calls: len(results), Errs: failed, Cancelled: cancelled, Quorum: need}
}

// call makes one call; ctx is the fan-out's, callCtx adds the timeout. s,
// if not nil, is the call already sent by FanOut.
func call[A, R any](ctx, callCtx context.Context, c *Caller, addr, method string, args A, s *sent[R]) Result[R] {
	start := time.Now()
	if s != nil {
		start = s.start
	}
	res := Result[R]{Addr: addr, Attempts: 1}
	reply, err := roundTrip[A, R](callCtx, c, addr, method, args, s)
	res.Latency = time.Since(start)
	if errors.Is(err, errNotSent) {
		res.Attempts, err = 0, callCtx.Err() // ended before its turn
	}
	switch {
	case err == nil:
		res.Reply, res.From = *reply, addr
	case ctx.Err() == nil && endedBy(callCtx, err):
		res.Err = &TimeoutError{After: c.cfg.timeout}
	default:
		res.Err = err
		res.Cancelled = ctx.Err() != nil && errors.Is(err, ctx.Err())
	}
	return res
}

// errNotSent is roundTrip's error when ctx had ended before it tried
// anything: call reports ctx's error with no attempt.
var errNotSent = errors.New("caller: not sent")

// roundTrip sends method to addr, or takes over s if not nil, and waits
// for the reply.
func roundTrip[A, R any](ctx context.Context, c *Caller, addr, method string, args A, s *sent[R]) (*R, error) {
	for attempt := 0; ; attempt++ {
		if attempt > 0 || s == nil {
			if attempt == 0 && ctx.Err() != nil {
				return nil, errNotSent
			}
			cn, err := c.pool.get(ctx, addr)
			if err != nil {
				return nil, err
			}
			s = send[A, R](cn, method, args)
		}
		cn, done := s.cn, s.done
		if attempt == 0 && s.unsent() {
			// Redial once, transparently.
			c.pool.release(addr, cn, false)
			c.pool.discard(addr, cn)
			continue
		}
		if done == nil {
			// The reply is often in already: take it without the select
			// on ctx, whose channel every call of the fan-out shares.
			select {
			case done = <-s.call.Done:
			default:
				select {
				case done = <-s.call.Done:
				case <-ctx.Done():
					c.pool.release(addr, cn, true)
					return nil, ctx.Err()
				}
			}
		}
		c.pool.release(addr, cn, false)
		if err := callErr(cn, done.Error); err != nil {
			if broken(err) {
				c.pool.discard(addr, cn)
			}
			return nil, err
		}
		return s.reply, nil
	}
}
