package caller

import (
	"context"
	"net"
	"time"
)

// Option configures New.
type Option func(*config)

type config struct {
	timeout     time.Duration
	dialTimeout time.Duration
	maxAbandon  int
	maxConns    int
	dial        func(ctx context.Context, addr string) (net.Conn, error)
	protocol    Protocol

	concurrency int
	failFast    bool
	quorum      int

	hedgeAfter    time.Duration
	hedgeQuantile float64
	hedgeMax      int
	groups        [][]string

	attempts    int
	backoffBase time.Duration
	backoffCap  time.Duration
	budget      *Budget
}

func defaults() config {
	return config{timeout: 5 * time.Second, dialTimeout: time.Second, maxAbandon: 64, attempts: 1}
}

// strategic reports whether a fan-out needs more than the plain
// one-goroutine-per-address wait for all.
func (c *config) strategic() bool {
	return c.concurrency > 0 || c.failFast || c.quorum > 0 || c.hedging() || c.attempts > 1
}

// hedging reports whether backup calls may be sent.
func (c *config) hedging() bool {
	return c.hedgeMax > 0 && (c.hedgeAfter > 0 || c.hedgeQuantile > 0)
}

// WithTimeout bounds each call, dial included (default 5s). A call that
// times out fails with a *TimeoutError; zero or less means no per-call
// timeout, only ctx. With retries or hedges, the timeout bounds each try
// (a call and the hedges sent for it), not their sum: bound the whole
// fan-out with ctx.
func WithTimeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// WithDialTimeout bounds each dial (default 1s).
func WithDialTimeout(d time.Duration) Option { return func(c *config) { c.dialTimeout = d } }

// WithDialer replaces the default dialer (TCP, or unix for an address
// containing a '/': see the package doc), e.g. to reach servers through a
// proxy; dial gets the address as given and picks the network itself. The
// dial timeout still applies through ctx, and the protocol (WithProtocol)
// runs on the connection dial returns.
func WithDialer(dial func(ctx context.Context, addr string) (net.Conn, error)) Option {
	return func(c *config) { c.dial = dial }
}

// WithProtocol makes the Caller speak p on every connection (default Gob):
// HTTP for servers behind rpc.HandleHTTP or (*rpc.Server).ServeHTTP, as
// rpc.DialHTTP reaches them; JSONRPC for net/rpc/jsonrpc servers. Pool,
// timeouts, strategies and error types are the same for every protocol;
// HTTP's handshake is part of the dial. An unknown p fails every dial.
func WithProtocol(p Protocol) Option { return func(c *config) { c.protocol = p } }

// WithMaxAbandoned sets how many calls abandoned on timeout or cancellation
// (hedge losers included) a connection may hold before it is retired and
// a new one dialled (default 64; 0: never). A retired connection is closed
// once no call that somebody still waits for is in flight on it, which
// frees its abandoned calls; a hanging server thus cannot make a client's
// pending calls grow without bound, and recycling never fails a healthy
// call of another fan-out.
func WithMaxAbandoned(n int) Option { return func(c *config) { c.maxAbandon = n } }

// WithMaxConns bounds the connections a Caller keeps open between calls
// (default 0: one per address ever called, kept until it breaks or Close).
// When the last call in flight on a connection ends while the Caller holds
// more than n, that connection is closed (those kept before it stay), and
// its address is dialled again when next called. A connection is closed
// for it only once no call is in flight on it, and a call never starts on
// one being closed; the connections with calls in flight are bounded by
// WithConcurrency instead. Together they bound a fan-out to 100,000
// servers to about c+n connections at any moment, where keeping one per
// server would hold 100,000 (each some 30 KB of net/rpc and gob state, on
// the two ends).
func WithMaxConns(n int) Option { return func(c *config) { c.maxConns = max(n, 0) } }

// WithConcurrency sets how many calls of one fan-out may be in flight at
// once, retries and hedges included (0, the default: no limit). Calls
// start in input order as earlier ones end; a call abandoned on timeout or
// cancellation frees its slot at once, though net/rpc cannot stop its
// server from finishing it. Each fan-out has its own limit: concurrent
// fan-outs through one Caller do not share it.
func WithConcurrency(c int) Option { return func(cfg *config) { cfg.concurrency = max(c, 0) } }

// WithFailFast makes the first failure (after its retries, if any) cancel
// every call still in flight or not yet sent. The cancelled calls fail with
// ErrCancelled and are not in the aggregate error, which names the
// address(es) that failed.
func WithFailFast() Option { return func(c *config) { c.failFast = true } }

// WithQuorum makes a fan-out return once k calls succeeded, cancelling the
// rest (they fail with ErrCancelled, and are not failures). FanOut's error
// is nil once the quorum is reached, even if some calls failed before: their
// Results keep their errors. When so many calls failed that k successes
// are out of reach, the rest are cancelled too and the error is a
// *FanOutError with Quorum set, naming the failed addresses. A k larger
// than the fan-out means every address; k <= 0 means no quorum (wait for
// all).
func WithQuorum(k int) Option { return func(c *config) { c.quorum = max(k, 0) } }

// WithHedge sends up to max backup calls ("hedges") for a call that has not
// answered after the delay after: the first after it, the next after
// another delay, and so on, each to the next other address of the call's
// group (see WithGroups). The first reply wins and the others are
// abandoned; a hedge that wins sets Result.Hedged and Result.From. Hedges
// are for slowness, not failures: a failed call sends no further hedges
// (use WithRetry). Each hedge takes a token from the budget (WithBudget):
// when none is left the call is hedged no further. Under WithConcurrency a
// hedge also needs a free slot: without one it waits another delay.
//
// Hedges go to stragglers only: a call is hedged only while at most m+3σ+1
// of the fan-out's n addresses have not finished, where m is how many
// calls are expected beyond the hedge delay by chance (5% of n here, as if
// the delay were the p95 of latencies; (1-q)·n for WithHedgeQuantile) and
// σ = √(m·(1-m/n)). When more are slow, the slowness is shared (a busy
// client, a slow network, too short a delay) and hedging would only add
// load: the call waits, and is hedged once few enough remain.
func WithHedge(after time.Duration, max int) Option {
	return func(c *config) { c.hedgeAfter, c.hedgeQuantile, c.hedgeMax = after, 0, max }
}

// WithHedgeQuantile is WithHedge with a delay that follows the latency of
// recent calls: the q-quantile (0 < q < 1, e.g. 0.95) of the last 1,024
// calls of this Caller that ended (hedge losers count with the time they
// had run when abandoned, so slow calls stay in the window). Until 64
// calls have ended, no hedge is sent. The quantile is read once per
// fan-out. As with WithHedge, hedges go to stragglers only.
func WithHedgeQuantile(q float64, max int) Option {
	return func(c *config) { c.hedgeQuantile, c.hedgeAfter, c.hedgeMax = q, 0, max }
}

// WithGroups says which addresses can stand in for each other: a hedge for
// a call to an address goes to another address of its group. Addresses in
// no group are never hedged. Without WithGroups, the addresses of each
// fan-out form one group.
func WithGroups(groups [][]string) Option { return func(c *config) { c.groups = groups } }

// WithRetry makes a failed call be tried again, up to attempts tries per
// address in total, after a backoff of full jitter: a random duration in
// [0, min(cap, base·2^(n-1))) before the n-th retry. Every failure but a
// cancellation (by the strategy, by ctx or by Close) is retried, timeouts
// and error replies included; retries go to the same address, and only
// while the budget (WithBudget) allows. attempts <= 1 means no retry.
func WithRetry(attempts int, base, cap time.Duration) Option {
	return func(c *config) { c.attempts, c.backoffBase, c.backoffCap = max(attempts, 1), base, cap }
}

// WithBudget bounds retries and hedges with b, which may be shared by many
// Callers (see NewBudget). Without a budget, retries are bounded only by
// WithRetry's attempts and hedges by WithHedge's max, so a fleet-wide
// outage multiplies the load by attempts: set a budget in production.
func WithBudget(b *Budget) Option { return func(c *config) { c.budget = b } }
