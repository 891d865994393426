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
	dial        func(ctx context.Context, addr string) (net.Conn, error)
}

func defaults() config {
	return config{timeout: 5 * time.Second, dialTimeout: time.Second, maxAbandon: 64}
}

// WithTimeout bounds each call, dial included (default 5s). A call that
// times out fails with a *TimeoutError; zero or less means no per-call
// timeout, only ctx.
func WithTimeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// WithDialTimeout bounds each dial (default 1s).
func WithDialTimeout(d time.Duration) Option { return func(c *config) { c.dialTimeout = d } }

// WithDialer replaces the TCP dialer, e.g. to reach servers through a proxy.
// The dial timeout still applies through ctx.
func WithDialer(dial func(ctx context.Context, addr string) (net.Conn, error)) Option {
	return func(c *config) { c.dial = dial }
}

// WithMaxAbandoned sets how many calls abandoned on timeout or cancellation a
// connection may hold before it is closed and redialled (default 64). A
// hanging server thus cannot make a client's pending calls grow without
// bound.
func WithMaxAbandoned(n int) Option { return func(c *config) { c.maxAbandon = n } }
