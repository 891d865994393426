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
// By default every call starts at once (FanOut writes the requests on
// pooled connections itself and waits for their replies; an address that
// needs a dial gets a goroutine of its own), and FanOut returns when every
// call has ended: with a reply, an error, the
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
	return fanOutAll[A, R](ctx, c, addrs, method, args)
}

// fanOutAll is FanOut's default path: every call at once, wait for all.
//
// Requests to addresses with a warm connection are written from this
// goroutine, one after another, and this goroutine also takes their
// replies, in the order they come, from one channel that every such call
// shares: the same work as the hand-written floor of BENCHMARKS.md, no
// goroutine per call and no channel per call. 1,000 goroutines writing
// and waiting at once cost more than the calls themselves. Addresses that
// need a dial (and a warm connection found shut down) get a goroutine of
// their own, joined by a WaitGroup, which dials, sends and waits as
// Call does.
func fanOutAll[A, R any](ctx context.Context, c *Caller, addrs []string, method string, args A) ([]Result[R], error) {
	results := make([]Result[R], len(addrs))
	// Every call starts now, so one deadline bounds them all.
	callCtx := ctx
	if c.cfg.timeout > 0 {
		var cancel context.CancelFunc
		callCtx, cancel = context.WithTimeout(ctx, c.cfg.timeout)
		defer cancel()
	}
	var wg sync.WaitGroup
	dial := func(i int, start time.Time, attempt int) {
		wg.Go(func() {
			results[i] = call[A, R](ctx, callCtx, c, addrs[i], method, args, start, attempt)
		})
	}
	w := newWarm[R](c.pool.warm(addrs))
	done := callCtx.Done()
	boxed := any(args) // boxed once: Go takes args as an interface
	for i, addr := range addrs {
		switch cn := w.conns[i]; {
		case cn == nil:
			dial(i, time.Now(), 0)
		case ended(done):
			c.pool.release(addr, cn, false)
			w.conns[i] = nil
			results[i] = outcome[R](ctx, callCtx, c, Result[R]{Addr: addr}, errNotSent, 0)
		default:
			start := time.Now()
			sent := cn.client.Go(method, boxed, &w.replies[i], w.done)
			w.sent(sent, i, start)
			// Go ends a call on a client already shut down (the server
			// closed the connection since the last fan-out, or the pool
			// retired it) before it returns: the request never left, so
			// redial once, transparently. A fast reply or a write error
			// may be in already too.
			w.drain(func(got *rpc.Call, j int, at time.Time) {
				if got == sent && errors.Is(got.Error, rpc.ErrShutdown) {
					c.pool.release(addr, cn, false)
					c.pool.discard(addr, cn)
					w.conns[i] = nil
					dial(i, start, 1)
					return
				}
				w.finish(ctx, callCtx, c, results, addrs, got, j, at)
			})
		}
	}
	w.wait(ctx, callCtx, c, results, addrs)
	wg.Wait()
	return results, aggregate(results, 0)
}

// warm is the state of fanOutAll's calls on warm connections.
type warm[R any] struct {
	conns   []*conn // the address's warm connection; nil once its call ended or if it has none
	replies []R     // what Go decodes into; an abandoned call may still write its own late
	done    chan *rpc.Call
	index   map[*rpc.Call]int // call -> address index, while it is pending
	starts  []time.Time
}

func newWarm[R any](conns []*conn) *warm[R] {
	n := 0
	for _, cn := range conns {
		if cn != nil {
			n++
		}
	}
	// Room for every call's Done, so that net/rpc never drops one, and
	// an abandoned call's late Done never blocks its connection's reader.
	return &warm[R]{
		conns:   conns,
		replies: make([]R, len(conns)),
		done:    make(chan *rpc.Call, max(n, 1)),
		index:   make(map[*rpc.Call]int, n),
		starts:  make([]time.Time, len(conns)),
	}
}

// sent records that call went out for address i at start.
func (w *warm[R]) sent(call *rpc.Call, i int, start time.Time) {
	w.index[call] = i
	w.starts[i] = start
}

// drain hands every call already ended to ended, with its address index
// and now, without waiting.
func (w *warm[R]) drain(ended func(call *rpc.Call, i int, at time.Time)) {
	for {
		select {
		case call := <-w.done:
			i := w.index[call]
			delete(w.index, call)
			ended(call, i, time.Now())
		default:
			return
		}
	}
}

// finish makes results[i] of call, which ended at at.
func (w *warm[R]) finish(ctx, callCtx context.Context, c *Caller, results []Result[R], addrs []string, call *rpc.Call, i int, at time.Time) {
	addr, cn := addrs[i], w.conns[i]
	w.conns[i] = nil
	c.pool.release(addr, cn, false)
	res := Result[R]{Addr: addr, Latency: at.Sub(w.starts[i])}
	err := callErr(cn, call.Error)
	if err == nil {
		res.Reply = w.replies[i]
	} else if broken(err) {
		c.pool.discard(addr, cn)
	}
	results[i] = outcome[R](ctx, callCtx, c, res, err, 1)
}

// wait takes the replies of the calls still pending until every one has
// ended or callCtx ends; then those left are abandoned.
func (w *warm[R]) wait(ctx, callCtx context.Context, c *Caller, results []Result[R], addrs []string) {
	finish := func(call *rpc.Call, i int, at time.Time) { w.finish(ctx, callCtx, c, results, addrs, call, i, at) }
	for len(w.index) > 0 {
		select {
		case call := <-w.done:
			i := w.index[call]
			delete(w.index, call)
			finish(call, i, time.Now())
		case <-callCtx.Done():
			w.drain(finish) // what ended meanwhile counts
			now := time.Now()
			for _, i := range w.index {
				c.pool.release(addrs[i], w.conns[i], true)
				w.conns[i] = nil
				res := Result[R]{Addr: addrs[i], Latency: now.Sub(w.starts[i])}
				results[i] = outcome[R](ctx, callCtx, c, res, callCtx.Err(), 1)
			}
			clear(w.index)
		}
	}
}

// sent is a call sent by send, for roundTrip to wait for.
type sent[R any] struct {
	call  *rpc.Call
	reply *R
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
	s := &sent[R]{reply: new(R)}
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

// call makes one call, from its own goroutine; ctx is the fan-out's,
// callCtx adds the timeout. start is when the call's first try began,
// attempt the try it is at (1: a redial of a warm call found shut down).
func call[A, R any](ctx, callCtx context.Context, c *Caller, addr, method string, args A, start time.Time, attempt int) Result[R] {
	reply, err := roundTrip[A, R](callCtx, c, addr, method, args, attempt)
	res := Result[R]{Addr: addr, Latency: time.Since(start)}
	if err == nil {
		res.Reply = *reply
	}
	return outcome[R](ctx, callCtx, c, res, err, 1)
}

// outcome completes res, the result of a call that ended with err after
// attempts tries; errNotSent means ctx had ended before the call was sent.
func outcome[R any](ctx, callCtx context.Context, c *Caller, res Result[R], err error, attempts int) Result[R] {
	res.Attempts = attempts
	if errors.Is(err, errNotSent) {
		res.Attempts, err = 0, callCtx.Err() // ended before its turn
	}
	switch {
	case err == nil:
		res.From = res.Addr
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

// roundTrip sends method to addr and waits for the reply; attempt is the
// try it starts at (a call sent on a client found shut down is redialled
// once, at attempt 0 only).
func roundTrip[A, R any](ctx context.Context, c *Caller, addr, method string, args A, attempt int) (*R, error) {
	if ctx.Err() != nil {
		return nil, errNotSent
	}
	for ; ; attempt++ {
		cn, err := c.pool.get(ctx, addr)
		if err != nil {
			return nil, err
		}
		s := send[A, R](cn, method, args)
		done := s.done
		if attempt == 0 && s.unsent() {
			// Redial once, transparently.
			c.pool.release(addr, cn, false)
			c.pool.discard(addr, cn)
			continue
		}
		if done == nil {
			select {
			case done = <-s.call.Done:
			case <-ctx.Done():
				c.pool.release(addr, cn, true)
				return nil, ctx.Err()
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
