package faults

import "time"

// SlowAccept makes the server wait D after accepting a connection before it
// reads from it (slowaccept=500ms). The kernel completes the handshake, so
// the dial succeeds at once; the first call on the connection is answered D
// late. Targeting keys count connections, not calls.
//
// The client observes a fast dial and a slow first reply.
type SlowAccept struct {
	D time.Duration
}

// Kind returns "slowaccept".
func (SlowAccept) Kind() string { return "slowaccept" }

// String returns the fault in the text form Parse reads.
func (s SlowAccept) String() string { return "slowaccept=" + s.D.String() }

func (SlowAccept) connFault() {}

func (s *SlowAccept) set(key, val string) error {
	if key != "" {
		return errUnknownSetting
	}
	d, err := parseDuration(val)
	s.D = d
	return err
}
