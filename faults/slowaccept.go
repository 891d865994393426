package faults

import (
	"fmt"
	"time"
)

// SlowAccept makes the server wait D after accepting a connection before it
// reads from it (slowaccept=500ms). The kernel completes the handshake, so
// the dial succeeds at once; the first call on the connection is answered D
// late. Targeting keys count connections, not calls.
//
// The client observes a fast dial and a slow first reply.
type SlowAccept struct {
	D time.Duration // how long each connection waits before it is read
}

func (SlowAccept) kind() string   { return "slowaccept" }
func (s SlowAccept) text() string { return "slowaccept=" + s.D.String() }

func (s *SlowAccept) set(key, val string) error {
	if key != "" {
		return errUnknownSetting
	}
	d, err := parseDuration(val)
	s.D = d
	return err
}

func (s SlowAccept) check() error {
	if s.D == 0 {
		return fmt.Errorf("slowaccept needs a positive duration")
	}
	return nil
}
