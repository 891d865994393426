package attach

import (
	"context"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet/driver"
)

// samples is how many round trips an offset estimate takes: the fastest
// one bounds it.
const samples = 8

// estimate measures the clock of the server behind cc against this
// process's by round-trip bracketing: the server read its clock (Now)
// after the request left, t0, and before its reply came back, t1, so at
// this process's time t0+rtt/2 give or take rtt/2. Of several round
// trips the fastest gives the tightest bracket (NTP's minimum-delay
// filter). An offset within its own uncertainty of zero is reported as
// zero: the bracket cannot tell it from none.
func estimate(ctx context.Context, cc *driver.ControlClient) (driver.Clock, error) {
	best := time.Duration(-1)
	var offset time.Duration
	for range samples {
		t0 := time.Now()
		ts, err := cc.Now(ctx)
		t1 := time.Now()
		if err != nil {
			return driver.Clock{}, err
		}
		rtt := t1.Sub(t0) // monotonic
		if best < 0 || rtt < best {
			best = rtt
			// ts carries no monotonic reading, so Sub compares wall clocks.
			offset = ts.Sub(t0.Add(rtt / 2))
		}
	}
	u := (best + 1) / 2 // round up: the bracket's half-width
	if offset <= u && offset >= -u {
		offset = 0
	}
	return driver.Clock{Offset: offset, Uncertainty: u}, nil
}

// correct moves calls from the server's clock to this process's: their
// Received and Replied times less the offset, the uncertainty stated.
func correct(calls []driver.Call, c driver.Clock) {
	for i := range calls {
		if !calls[i].Received.IsZero() {
			calls[i].Received = calls[i].Received.Add(-c.Offset)
		}
		if !calls[i].Replied.IsZero() {
			calls[i].Replied = calls[i].Replied.Add(-c.Offset)
		}
		calls[i].Uncertainty = c.Uncertainty
	}
}
