package fleet

import (
	"errors"
	"slices"
	"sync"
)

// A Hold fault (faults.Hold) keeps replies: the server's codecs hand them
// to its keeper, and Release sends them, in the order they were kept.

// keeper keeps the replies of one server that a Hold fault holds. It is
// safe for concurrent use.
type keeper struct {
	mu    sync.Mutex
	next  uint64
	sends map[uint64]func() // by order kept
}

// keep keeps send until release; forget drops it.
func (k *keeper) keep(send func()) (forget func()) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.sends == nil {
		k.sends = make(map[uint64]func())
	}
	n := k.next
	k.next++
	k.sends[n] = send
	return func() {
		k.mu.Lock()
		defer k.mu.Unlock()
		delete(k.sends, n)
	}
}

// release sends every reply kept so far, oldest first, one after another,
// and returns how many it sent.
func (k *keeper) release() int {
	k.mu.Lock()
	order := make([]uint64, 0, len(k.sends))
	for n := range k.sends {
		order = append(order, n)
	}
	slices.Sort(order)
	sends := make([]func(), len(order))
	for i, n := range order {
		sends[i] = k.sends[n]
		delete(k.sends, n)
	}
	k.mu.Unlock()
	for _, send := range sends {
		send()
	}
	return len(sends)
}

// Hold keeps a reply of the server's (see inject.Host).
func (h host) Hold(send func()) (forget func()) { return h.s.kept.keep(send) }

// Release sends the replies the server holds for a Hold fault, in the
// order it held them, and returns once they are written. A paused server
// cannot write them: Unpause it first.
func (s *server) Release() error {
	s.mu.Lock()
	l := s.life
	s.mu.Unlock()
	if l == lifePaused {
		return errors.New("it is paused: Unpause it")
	}
	s.kept.release()
	return nil
}
