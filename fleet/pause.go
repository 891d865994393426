package fleet

import (
	"errors"
	"fmt"
	"time"

	"github.com/rpcfleet/rpcfleet/internal/porthold"
)

// An in-process server's lifecycle, beside Kill and Restart (server.go):
//
//	Pause       up -> paused          the accept loop and every read and write
//	                                  wait; the kernel still completes dials
//	Unpause     paused -> up          what waited goes on
//	Disconnect  up -> cut             as Kill: dials refused, connections cut
//	Reconnect   cut -> up             as Restart, on the same address
//	Kill        any -> down           (Crash too)
//	Restart     down -> up
//
// Any other move is refused with an error naming the server's state.

// life is where a server is in that lifecycle.
type life int

const (
	lifeUp life = iota
	lifeDown
	lifePaused
	lifeCut
)

func (l life) String() string {
	return [...]string{"up", "down", "paused", "disconnected"}[l]
}

// move checks that the server is in state from, the one the operation
// leaves, and names the state it is in otherwise; s.mu is held.
func (s *server) move(from life) error {
	if s.stopped {
		return errors.New("the fleet has stopped")
	}
	if s.life != from {
		return fmt.Errorf("it is %v, not %v", s.life, from)
	}
	return nil
}

// Pause freezes the server, as a stopped process is frozen: it accepts no
// connection (dials still complete: the kernel finishes handshakes), reads
// no request and writes no reply until Unpause. Nothing is refused or
// closed, so a caller sees only its own timeout.
func (s *server) Pause() error {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.move(lifeUp); err != nil {
		return err
	}
	g := make(chan struct{})
	s.paused.Store(&g)
	s.life = lifePaused
	if dl, ok := s.ln.(deadliner); ok {
		_ = dl.SetDeadline(time.Unix(1, 0)) // wakes the accept loop, which then waits
	}
	return nil
}

// Unpause lets a paused server go on: it accepts the dials that waited,
// reads their requests and writes the replies held back.
func (s *server) Unpause() error {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.move(lifePaused); err != nil {
		return err
	}
	s.unpause()
	s.life = lifeUp
	return nil
}

// unpause opens the pause gate, if closed; s.mu is held.
func (s *server) unpause() {
	g := s.paused.Swap(nil)
	if g == nil {
		return
	}
	if dl, ok := s.ln.(deadliner); ok && s.gate.Load() == nil {
		_ = dl.SetDeadline(time.Time{})
	}
	close(*g)
}

// Disconnect cuts the server off: dials are refused and open connections
// cut, as by Kill, until Reconnect. Its port stays bound (not listening),
// so no other server takes its address meanwhile.
func (s *server) Disconnect() error {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	s.mu.Lock()
	err := s.move(lifeUp)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	s.kill()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.life = lifeCut
	if s.network != "memory" { // a memory address is the fleet's own: nobody takes it meanwhile
		if h, err := porthold.Addr(s.addr); err == nil {
			s.hold = h
		}
	}
	return nil
}

// Reconnect ends a Disconnect: the server listens on its address again.
func (s *server) Reconnect() error {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	s.mu.Lock()
	err := s.move(lifeCut)
	s.releaseHold()
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return s.listen(s.addr)
}

// releaseHold frees the port a Disconnect held, if any; s.mu is held.
func (s *server) releaseHold() {
	if s.hold != nil {
		s.hold.Release()
		s.hold = nil
	}
}

// deadliner is a listener whose Accept can be woken by a deadline (TCP and
// unix listeners both are).
type deadliner interface{ SetDeadline(time.Time) error }
