package caller

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/rpc"
	"sync"
	"sync/atomic"
	"time"
)

// run is one fan-out under a strategy: bounded concurrency, fail-fast,
// quorum, hedges or retries. Workers take the addresses in input order;
// each address is tried (a call and its hedges), retried after a backoff
// if it failed, and accounted for, which may cancel the rest.
type run[A, R any] struct {
	c       *Caller
	cfg     *config
	ctx     context.Context         // the fan-out's
	sctx    context.Context         // ctx, also cancelled by the strategy
	cancel  context.CancelCauseFunc // cancels sctx with an ErrCancelled cause
	addrs   []string
	method  string
	args    A
	results []Result[R]

	sem        chan struct{} // one token per call in flight; nil: no limit
	need       int           // the quorum; 0: none
	hedgeDelay time.Duration // 0: no hedges in this fan-out
	stragglers int           // hedge only while at most this many addresses remain

	succeeded, failed atomic.Int64
	remaining         atomic.Int64  // addresses not finished yet
	fewLeft           chan struct{} // closed once remaining <= stragglers
}

func fanOutStrategy[A, R any](ctx context.Context, c *Caller, addrs []string, method string, args A) ([]Result[R], error) {
	cfg := &c.cfg
	n := len(addrs)
	r := &run[A, R]{
		c: c, cfg: cfg, ctx: ctx, addrs: addrs, method: method, args: args,
		results: make([]Result[R], n),
	}
	r.sctx, r.cancel = context.WithCancelCause(ctx)
	defer r.cancel(nil)
	workers := n
	if cfg.concurrency > 0 {
		r.sem = make(chan struct{}, cfg.concurrency)
		workers = min(cfg.concurrency, n)
	}
	if cfg.quorum > 0 {
		r.need = min(cfg.quorum, n)
	}
	if cfg.hedging() {
		if cfg.hedgeAfter > 0 {
			r.hedgeDelay = cfg.hedgeAfter
			r.stragglers = stragglers(fixedHedgeQuantile, n)
		} else if d, ok := c.latency.quantile(cfg.hedgeQuantile); ok {
			r.hedgeDelay = d
			r.stragglers = stragglers(cfg.hedgeQuantile, n)
		}
	}
	r.remaining.Store(int64(n))
	r.fewLeft = make(chan struct{})
	if n <= r.stragglers {
		close(r.fewLeft)
	}

	var (
		next atomic.Int64
		wg   sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				r.results[i] = r.address(i)
				if r.remaining.Add(-1) == int64(r.stragglers) {
					close(r.fewLeft)
				}
				r.account(&r.results[i])
			}
		})
	}
	wg.Wait()
	if r.need > 0 {
		if int(r.succeeded.Load()) >= r.need {
			return r.results, nil
		}
		return r.results, aggregate(r.results, r.need)
	}
	return r.results, aggregate(r.results, 0)
}

// account counts the outcome of an address and cancels the rest when the
// strategy says so.
func (r *run[A, R]) account(res *Result[R]) {
	if res.Err == nil {
		if r.succeeded.Add(1) == int64(r.need) {
			r.cancel(fmt.Errorf("%w: quorum of %d reached", ErrCancelled, r.need))
		}
		return
	}
	if res.Cancelled {
		return
	}
	failed := int(r.failed.Add(1))
	if r.cfg.failFast {
		r.cancel(fmt.Errorf("%w: fail-fast after %s failed", ErrCancelled, res.Addr))
	}
	if r.need > 0 && failed > len(r.addrs)-r.need {
		r.cancel(fmt.Errorf("%w: quorum of %d out of reach", ErrCancelled, r.need))
	}
}

// address tries addrs[i], and retries while it may.
func (r *run[A, R]) address(i int) Result[R] {
	res := Result[R]{Addr: r.addrs[i]}
	if r.sctx.Err() != nil {
		res.Err, res.Cancelled = r.stopErr(), true
		return res
	}
	start := time.Now()
	for try := 1; ; try++ {
		a, err := r.try(i, &res)
		if err == nil {
			res.Reply, res.From, res.Hedged, res.Err = *a.reply, a.addr, a.hedge, nil
			break
		}
		res.Err = err
		if try >= r.cfg.attempts || !r.retryable(err) || !r.cfg.budget.allowRetry() {
			break
		}
		if err := r.sleep(backoff(try, r.cfg.backoffBase, r.cfg.backoffCap)); err != nil {
			res.Err = err
			break
		}
	}
	res.Latency = time.Since(start)
	res.Cancelled = res.Err != nil &&
		(errors.Is(res.Err, ErrCancelled) || r.ctx.Err() != nil && errors.Is(res.Err, r.ctx.Err()))
	return res
}

// stopErr is the error of a call stopped because sctx ended: ctx's error
// if ctx ended, else the strategy's ErrCancelled.
func (r *run[A, R]) stopErr() error {
	if err := r.ctx.Err(); err != nil {
		return err
	}
	return context.Cause(r.sctx)
}

// retryable reports whether a failed address may be tried again: not
// once the fan-out is stopped or the Caller closed.
func (r *run[A, R]) retryable(err error) bool {
	select {
	case <-r.c.pool.done:
		return false
	default:
	}
	return r.sctx.Err() == nil && !errors.Is(err, ErrCancelled) && !errors.Is(err, ErrClosed)
}

// sleep waits d, unless the fan-out is stopped or the Caller closed.
func (r *run[A, R]) sleep(d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-r.sctx.Done():
		return r.stopErr()
	case <-r.c.pool.done:
		return ErrClosed
	}
}

// attempt is one call sent by a try: to the address itself, or a hedge.
type attempt[R any] struct {
	addr   string
	cn     *conn
	call   *rpc.Call
	reply  *R
	start  time.Time
	hedge  bool
	resent bool // sent again after rpc.ErrShutdown
}

// tryState is what one try has in flight. Every call of a try shares done,
// which has room for all of them, so net/rpc never drops a completion.
type tryState[R any] struct {
	done    chan *rpc.Call
	pending []*attempt[R]
}

// take removes and returns the pending attempt of call.
func (t *tryState[R]) take(call *rpc.Call) *attempt[R] {
	for k, a := range t.pending {
		if a.call == call {
			t.pending = append(t.pending[:k], t.pending[k+1:]...)
			return a
		}
	}
	panic("caller: completion of an unknown call")
}

// try sends one call to addrs[i], and hedges to its group while it has not
// answered; it returns the first attempt that succeeded, or the error of
// the call to addrs[i] (a hedge's error if that one had none). The
// per-call timeout bounds the try.
func (r *run[A, R]) try(i int, res *Result[R]) (*attempt[R], error) {
	ctx := r.sctx
	if r.cfg.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.cfg.timeout)
		defer cancel()
	}
	var targets []string
	if r.hedgeDelay > 0 {
		targets = r.c.hedgeTargets(r.addrs, i, r.cfg.hedgeMax)
	}
	t := &tryState[R]{done: make(chan *rpc.Call, 1+len(targets))}
	if err := r.send(ctx, t, r.addrs[i], false, false, res); err != nil {
		err = r.errOf(ctx, err)
		r.failedCall(err)
		return nil, err
	}
	var (
		hedgeC           <-chan time.Time
		fewLeftC         <-chan struct{}
		timer            *time.Timer
		hedges           int
		ownErr, hedgeErr error
	)
	if len(targets) > 0 {
		timer = time.NewTimer(r.hedgeDelay)
		defer timer.Stop()
		hedgeC = timer.C
	}
	// hedge sends the next hedge, if a slot and the budget allow, and arms
	// the timer for the one after.
	hedge := func() {
		if r.sem != nil {
			select {
			case r.sem <- struct{}{}:
			default: // no free slot: wait another delay
				timer.Reset(r.hedgeDelay)
				hedgeC = timer.C
				return
			}
		}
		if !r.cfg.budget.allowHedge() {
			r.releaseSlot()
			return
		}
		target := targets[hedges]
		hedges++
		if err := r.send(ctx, t, target, true, false, res); err != nil {
			hedgeErr = r.errOf(ctx, err)
			r.failedCall(hedgeErr)
		}
		if hedges < len(targets) {
			timer.Reset(r.hedgeDelay)
			hedgeC = timer.C
		}
	}
	for len(t.pending) > 0 {
		select {
		case call := <-t.done:
			a := t.take(call)
			r.end(a, false)
			err := callErr(a.cn, call.Error)
			if err == nil {
				r.c.record(time.Since(a.start))
				r.cfg.budget.succeeded()
				r.abandon(t)
				return a, nil
			}
			if broken(err) {
				r.c.pool.discard(a.addr, a.cn)
			}
			// A client shut down before the request went out (the server
			// closed the connection since, or the pool retired it): send
			// once more on a fresh connection, transparently.
			if errors.Is(err, rpc.ErrShutdown) && !a.resent {
				serr := r.send(ctx, t, a.addr, a.hedge, true, res)
				if serr == nil {
					continue
				}
				if !errors.Is(serr, ErrClosed) { // closed: the call failed with rpc.ErrShutdown
					err = r.errOf(ctx, serr)
				}
			}
			r.failedCall(err)
			if a.hedge {
				hedgeErr = err
			} else {
				ownErr, hedgeC, fewLeftC = err, nil, nil // hedges are for slowness, not failures
			}
		case <-hedgeC:
			hedgeC = nil
			select {
			case <-r.fewLeft:
				hedge()
			default:
				// Most of the fan-out is slow, not this call: the cause
				// is shared (the client, the network) and a hedge would
				// only add load. Hedge once few enough remain.
				fewLeftC = r.fewLeft
			}
		case <-fewLeftC:
			fewLeftC = nil
			hedge()
		case <-ctx.Done():
			r.abandon(t)
			err := r.errOf(ctx, ctx.Err())
			r.failedCall(err)
			return nil, err
		}
	}
	if ownErr != nil {
		return nil, ownErr
	}
	return nil, hedgeErr
}

// send starts one call of t to addr; the slot it needs under
// WithConcurrency is taken first, unless haveSlot says the caller holds it.
// A resent call does not count as an attempt.
func (r *run[A, R]) send(ctx context.Context, t *tryState[R], addr string, hedge, resent bool, res *Result[R]) error {
	haveSlot := hedge && !resent
	if r.sem != nil && !haveSlot {
		select {
		case r.sem <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := ctx.Err(); err != nil {
		r.releaseSlot() // ended while waiting for the slot: nothing sent, no attempt
		return err
	}
	if !resent {
		res.Attempts++
	}
	cn, err := r.c.pool.get(ctx, addr)
	if err != nil {
		r.releaseSlot()
		return err
	}
	a := &attempt[R]{addr: addr, cn: cn, reply: new(R), start: time.Now(), hedge: hedge, resent: resent}
	a.call = cn.client.Go(r.method, r.args, a.reply, t.done)
	t.pending = append(t.pending, a)
	return nil
}

// end frees what a finished or abandoned attempt held.
func (r *run[A, R]) end(a *attempt[R], abandoned bool) {
	r.releaseSlot()
	r.c.pool.release(a.addr, a.cn, abandoned)
}

func (r *run[A, R]) releaseSlot() {
	if r.sem != nil {
		<-r.sem
	}
}

// abandon gives up every call of t still in flight (hedge losers, calls
// the strategy cancelled, timed out); they count in the latency window
// with the time they had run.
func (r *run[A, R]) abandon(t *tryState[R]) {
	for _, a := range t.pending {
		r.c.record(time.Since(a.start))
		r.end(a, true)
	}
	t.pending = nil
}

// failedCall counts a failure in the budget; cancellations are none.
func (r *run[A, R]) failedCall(err error) {
	if !errors.Is(err, ErrCancelled) && !errors.Is(err, ErrClosed) && r.ctx.Err() == nil {
		r.cfg.budget.failed()
	}
}

// errOf maps an error due to the end of the try's ctx to what ended it:
// ctx, the strategy, or the per-call timeout.
func (r *run[A, R]) errOf(ctx context.Context, err error) error {
	if !endedBy(ctx, err) {
		return err
	}
	if r.sctx.Err() != nil {
		return r.stopErr()
	}
	return &TimeoutError{After: r.cfg.timeout}
}

// record adds a call's latency to the window of WithHedgeQuantile.
func (c *Caller) record(d time.Duration) {
	if c.latency != nil {
		c.latency.record(d)
	}
}

// fixedHedgeQuantile is the quantile a fixed hedge delay (WithHedge) is
// taken to be, for the straggler rule: Dean and Barroso's p95.
const fixedHedgeQuantile = 0.95

// stragglers is how many of n addresses may still be unfinished when a
// call is hedged, for a hedge delay at the q-quantile: the (1-q)·n calls
// expected beyond it by chance, plus three standard deviations of that
// count (binomial), plus one. More than that means the slowness is shared.
func stragglers(q float64, n int) int {
	m := (1 - q) * float64(n)
	return int(math.Ceil(m+3*math.Sqrt(m*q))) + 1
}
