package memnet

import (
	"sync"
	"time"
)

// deadline is a settable deadline, as net.Pipe keeps one: done returns a
// channel that is closed once the deadline has passed, or nil (never
// ready) while none is set. It is safe for concurrent use.
type deadline struct {
	mu    sync.Mutex
	timer *time.Timer
	ch    chan struct{} // nil: no deadline; closed: passed
}

// set replaces the deadline; the zero time clears it. A wait on the old
// channel wakes only if it passed; waiters re-read done after waking.
func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	if t.IsZero() {
		d.ch = nil
		return
	}
	ch := make(chan struct{})
	d.ch = ch
	wait := time.Until(t)
	if wait <= 0 {
		close(ch)
		return
	}
	d.timer = time.AfterFunc(wait, func() { close(ch) })
}

// done returns the channel closed when the deadline passes, or nil.
func (d *deadline) done() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ch
}

// passed reports whether the deadline has passed.
func (d *deadline) passed() bool {
	select {
	case <-d.done():
		return true
	default:
		return false
	}
}

// stop stops the timer, if any: the deadline no longer passes.
func (d *deadline) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
}
