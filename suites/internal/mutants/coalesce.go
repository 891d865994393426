package mutants

import (
	"sync"

	"github.com/rpcfleet/rpcfleet/fleet"
)

// flights coalesces concurrent calls to one address, keyed by the
// address alone: a fan-out joining a call in flight gets its reply, made
// for another fan-out's args.
type flights struct {
	mu sync.Mutex
	m  map[string]*flight
}

type flight struct {
	done  chan struct{}
	reply fleet.Reply
	err   error
}

// do runs fn for addr, or waits for the run of fn already in flight for
// addr and takes its result.
func (f *flights) do(addr string, fn func() (fleet.Reply, error)) (fleet.Reply, error) {
	f.mu.Lock()
	if fl := f.m[addr]; fl != nil { // BUG: the key should include the args
		f.mu.Unlock()
		<-fl.done
		return fl.reply, fl.err
	}
	fl := &flight{done: make(chan struct{})}
	f.m[addr] = fl
	f.mu.Unlock()
	fl.reply, fl.err = fn()
	f.mu.Lock()
	delete(f.m, addr)
	f.mu.Unlock()
	close(fl.done)
	return fl.reply, fl.err
}
