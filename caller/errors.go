package caller

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// ErrCancelled is the error of a call that the fan-out's strategy
// cancelled: fail-fast after another address failed, a quorum reached or
// made impossible. Such a call is not a failure of its server and is never
// in a *FanOutError's Errs; Result.Cancelled is true for it. The error
// says why: errors.Is(err, ErrCancelled) is true for every reason.
var ErrCancelled = errors.New("caller: cancelled by the fan-out's strategy")

// CallError is the error of one call of a fan-out. It unwraps to the cause:
// an rpc.ServerError for an error reply, rpc.ErrShutdown or a network error
// for a broken connection, a *TimeoutError, or ctx's error.
type CallError struct {
	Index int    // position of the address in the fan-out's input
	Addr  string // the address called
	Err   error  // the cause
}

// Error returns "addr: cause".
func (e *CallError) Error() string { return fmt.Sprintf("%s: %v", e.Addr, e.Err) }

// Unwrap returns the cause.
func (e *CallError) Unwrap() error { return e.Err }

// FanOutError is the aggregate error of a fan-out: one *CallError per failed
// address, in input order. errors.Is and errors.As look through it to every
// call's error. Calls the strategy cancelled (ErrCancelled) are not
// failures: they are only counted, in Cancelled.
type FanOutError struct {
	Calls     int          // how many addresses the fan-out had
	Errs      []*CallError // the failed ones
	Cancelled int          // how many calls the strategy cancelled
	Quorum    int          // the quorum not reached (WithQuorum), else 0
}

// Error names every failed address with its cause.
func (e *FanOutError) Error() string {
	var b strings.Builder
	if e.Quorum > 0 {
		fmt.Fprintf(&b, "caller: quorum of %d not reached: ", e.Quorum)
	} else {
		b.WriteString("caller: ")
	}
	fmt.Fprintf(&b, "%d of %d calls failed", len(e.Errs), e.Calls)
	if e.Cancelled > 0 {
		fmt.Fprintf(&b, ", %d cancelled", e.Cancelled)
	}
	b.WriteString(": ")
	for i, ce := range e.Errs {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(ce.Error())
	}
	return b.String()
}

// Unwrap returns every call's error, for errors.Is and errors.As.
func (e *FanOutError) Unwrap() []error {
	out := make([]error, len(e.Errs))
	for i, ce := range e.Errs {
		out[i] = ce
	}
	return out
}

// Addrs returns the failed addresses in input order.
func (e *FanOutError) Addrs() []string {
	out := make([]string, len(e.Errs))
	for i, ce := range e.Errs {
		out[i] = ce.Addr
	}
	return out
}

// TimeoutError says a call got no reply within the per-call timeout, or
// (Dial) no connection within the dial timeout. errors.Is(err,
// context.DeadlineExceeded) is true for it.
type TimeoutError struct {
	After time.Duration
	Dial  bool // the dial timed out (WithDialTimeout), not the call
}

// Error says how long the call waited, and for what.
func (e *TimeoutError) Error() string {
	if e.Dial {
		return fmt.Sprintf("no connection within %v", e.After)
	}
	return fmt.Sprintf("no reply within %v", e.After)
}

// Timeout reports true, as net.Error timeouts do.
func (e *TimeoutError) Timeout() bool { return true }

// Is makes errors.Is(err, context.DeadlineExceeded) true.
func (e *TimeoutError) Is(target error) bool { return target == context.DeadlineExceeded }

// endedBy reports whether err is how an operation ends when ctx ends:
// ctx's own error, or the i/o timeout a dial reports when ctx's deadline
// passes while it waits for the handshake.
// The dial's timeout may fire before ctx's own timer does, so a deadline
// that has passed counts as ended.
func endedBy(ctx context.Context, err error) bool {
	if cerr := ctx.Err(); cerr != nil && errors.Is(err, cerr) {
		return true
	}
	d, ok := ctx.Deadline()
	return ok && !time.Now().Before(d) && errors.Is(err, os.ErrDeadlineExceeded)
}
