package fleet

import (
	"fmt"
	"net/rpc"

	"github.com/rpcfleet/rpcfleet/faults"
)

// renew makes the server what a new server of the same index and address
// would be, had it started with seed, in a fleet of size, under plan p,
// so that a process can be reused for another fleet (the control
// endpoint's Renew; fleet/container's Pool). It takes the server down as
// Kill does (every connection closes, calls in flight end, the goroutines
// of the old life exit, a pause or a partition ends), forgets its
// journal, reseeds its decision engine (counts from zero, the PRNG from
// seed) under p, registers fresh instances of its receivers (the user's
// too: a receiver's state does not outlive a renewal), listens again and
// sets p, which starts its refuse and blackhole windows.
// The fleet id, which the control server holds, is the caller's to set.
func (s *server) renew(seed uint64, size int, p faults.Plan) error {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	s.kill()
	s.journal.ResetServer(s.index)
	s.eng.Reseed(seed, size)
	s.eng.SetFaults(p) // the first call after listen is decided under p; setFaults starts its windows
	s.mu.Lock()
	s.rpc = rpc.NewServer() // no goroutine of the old life reads it: kill waited for them
	err := s.register()
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("fleet: server %d: renew: %w", s.index, err)
	}
	if err := s.listen(s.addr); err != nil {
		return err
	}
	s.setFaults(p)
	return nil
}
