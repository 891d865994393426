package faults

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Fault is one kind of misbehaviour: a value of one of this package's
// kinds, Delay, Error, Hang, Hold, Drop, Reset, Corrupt, Truncate, Throttle,
// Slice, Refuse, SlowAccept, Blackhole or Crash, whose exported fields are
// its settings. The set of kinds is closed: Fault has unexported methods,
// so only this package implements it. Rule{Fault: f}.String() gives the
// text form of f alone, e.g. "delay=300ms" or "error=boom".
//
// Call faults (all kinds but Refuse, SlowAccept and Blackhole) apply to
// one call's reply. Connection faults (Refuse, SlowAccept, Blackhole)
// apply to the server's listener and its new connections.
type Fault interface {
	// kind is the name of the fault in the text form, e.g. "delay".
	kind() string
	// text is the text form of the fault alone: its kind and its own
	// settings, without targeting keys.
	text() string
}

// setter is a pointer to a fault kind, whose settings Parse sets; key is
// "" for the kind's own value (the part after "kind=").
type setter interface {
	Fault
	set(key, val string) error
}

// checker is implemented by kinds whose settings depend on each other:
// Parse calls check once every setting of a rule is read.
type checker interface {
	check() error
}

// kinds returns a new zero value of every fault kind, in the order
// messages list them. It is the one list of kinds: Parse finds a rule's
// kind in it by name, and kindNames lists its names.
func kinds() []setter {
	return []setter{
		&Delay{}, &Error{}, &Hang{}, &Hold{}, &Drop{}, &Reset{}, &Corrupt{}, &Truncate{},
		&Throttle{}, &Slice{}, &Refuse{}, &SlowAccept{}, &Blackhole{}, &Crash{},
	}
}

// newFault returns a pointer to a zero fault of the named kind, or false.
func newFault(kind string) (setter, bool) {
	for _, f := range kinds() {
		if f.kind() == kind {
			return f, true
		}
	}
	return nil, false
}

// kindNames lists the kinds for messages: "delay, error, ... or crash".
func kindNames() string {
	ks := kinds()
	names := make([]string, len(ks))
	for i, f := range ks {
		names[i] = f.kind()
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

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
