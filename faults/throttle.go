package faults

import (
	"fmt"
	"strconv"
)

// Throttle writes the reply at Rate bytes per second (throttle=1KB).
// Replies on one connection share its bandwidth, as on a slow link, so a
// throttled reply delays the replies queued behind it.
//
// The client observes a normal reply that takes about len/Rate seconds to
// arrive.
type Throttle struct {
	Rate int64 // bytes per second
}

func (Throttle) kind() string   { return "throttle" }
func (t Throttle) text() string { return "throttle=" + strconv.FormatInt(t.Rate, 10) }

func (t *Throttle) set(key, val string) error {
	if key != "" {
		return errUnknownSetting
	}
	n, err := parseSize(val)
	if err != nil {
		return fmt.Errorf("throttle needs a rate in bytes per second: %v", err)
	}
	t.Rate = n
	return nil
}
