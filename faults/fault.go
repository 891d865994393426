package faults

import (
	"errors"
	"fmt"
	"strconv"
)

// Fault is one kind of misbehaviour. Its String method gives the text form
// of the fault alone (kind and its own settings, without targeting keys).
//
// Call faults (Delay, Error, Hang, Drop, Reset, Corrupt, Truncate,
// Throttle, Slice, Crash) apply to one call's reply. Connection faults
// (Refuse, SlowAccept, Blackhole) apply to the server's listener and are recognised by
// the ConnFault marker.
type Fault interface {
	// Kind is the name of the fault in the text form, e.g. "delay".
	Kind() string
	String() string
}

// ConnFault marks faults that act on the listener rather than on calls.
type ConnFault interface {
	Fault
	connFault()
}

// setter is implemented by kinds that take a value or settings; key is ""
// for the kind's own value (the part after "kind=").
type setter interface {
	set(key, val string) error
}

// newFault returns a zero fault of the named kind, or false.
func newFault(kind string) (Fault, bool) {
	switch kind {
	case "delay":
		return &Delay{}, true
	case "error":
		return &Error{}, true
	case "hang":
		return &Hang{}, true
	case "drop":
		return &Drop{}, true
	case "reset":
		return &Reset{}, true
	case "corrupt":
		return &Corrupt{}, true
	case "truncate":
		return &Truncate{}, true
	case "throttle":
		return &Throttle{}, true
	case "slice":
		return &Slice{}, true
	case "refuse":
		return &Refuse{}, true
	case "slowaccept":
		return &SlowAccept{}, true
	case "blackhole":
		return &Blackhole{}, true
	case "crash":
		return &Crash{}, true
	}
	return nil, false
}

// kindNames lists the kinds for error messages.
const kindNames = "delay, error, hang, drop, reset, corrupt, truncate, throttle, slice, refuse, slowaccept, blackhole or crash"

// noValue is the setter of kinds without settings.
func noValue(kind, key, val string) error {
	if key == "" {
		return fmt.Errorf("%s %w", kind, errNoValue)
	}
	return errUnknownSetting
}

var (
	errUnknownSetting = errors.New("unknown setting")
	errNoValue        = errors.New("takes no value")
)

// parseSize reads a byte count: 512, 4KB, 1MB, 2KiB, 1MiB.
func parseSize(v string) (int64, error) {
	mult := int64(1)
	num := v
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"KB", 1000}, {"MB", 1000 * 1000}, {"B", 1}} {
		if len(v) > len(u.suffix) && v[len(v)-len(u.suffix):] == u.suffix {
			mult, num = u.m, v[:len(v)-len(u.suffix)]
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > (1<<40)/mult {
		return 0, fmt.Errorf("not a positive byte count (want e.g. 512, 4KB, 1MiB)")
	}
	return n * mult, nil
}
