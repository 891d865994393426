package fleet

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/internal/inject"
)

// journal records every call received by a fleet's servers, or the most
// recent ones of a fleet started WithJournalLimit. It is safe for
// concurrent use.
type journal struct {
	mu     sync.Mutex
	clock  uint64
	pages  [][]Call // calls in ID order, in pages that never move once filled
	n      int
	nextID int
	limit  int // keep at least this many recent calls, forget older pages; 0: keep all
	forgot int // calls forgotten for the limit
}

// pageSize is the number of calls per page: appending never copies the
// journal, which keeps recording cheap on the hot path.
const pageSize = 1024

// appendCall adds c; j.mu is held.
func (j *journal) appendCall(c Call) {
	if len(j.pages) == 0 || len(j.pages[len(j.pages)-1]) == pageSize {
		j.pages = append(j.pages, make([]Call, 0, pageSize))
	}
	last := &j.pages[len(j.pages)-1]
	*last = append(*last, c)
	j.n++
	if j.limit > 0 && len(j.pages) > 1 && j.n-len(j.pages[0]) >= j.limit {
		// The oldest page is not needed to keep limit calls: forget it.
		j.n -= len(j.pages[0])
		j.forgot += len(j.pages[0])
		j.pages[0] = nil
		j.pages = j.pages[1:]
	}
}

// find returns the call with the given ID, or nil; j.mu is held.
func (j *journal) find(id int) *Call {
	p := sort.Search(len(j.pages), func(k int) bool { return j.pages[k][0].ID > id }) - 1
	if p < 0 {
		return nil
	}
	page := j.pages[p]
	i, ok := slices.BinarySearchFunc(page, id, func(c Call, id int) int { return c.ID - id })
	if !ok {
		return nil
	}
	return &page[i]
}

// keep copies the calls for which ok is true; j.mu is held.
func (j *journal) keep(ok func(Call) bool) []Call {
	out := make([]Call, 0, j.n)
	for _, page := range j.pages {
		for _, c := range page {
			if ok(c) {
				out = append(out, c)
			}
		}
	}
	return out
}

// Calls returns a copy of every call recorded, in the order received.
func (j *journal) Calls() []Call {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.keep(func(Call) bool { return true })
}

// Server returns a copy of the calls received by server i, in order.
func (j *journal) Server(i int) []Call {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.keep(func(c Call) bool { return c.Server == i })
}

// Len returns the number of calls recorded (and not forgotten).
func (j *journal) Len() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.n
}

// Forgotten returns how many calls the journal has forgotten to stay
// within the fleet's WithJournalLimit; Reset does not count.
func (j *journal) Forgotten() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.forgot
}

// Reset forgets every call recorded so far. Calls in flight when Reset is
// called are not recorded when they end.
func (j *journal) Reset() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.pages, j.n = nil, 0
}

// ResetServer forgets every call recorded for server i.
func (j *journal) ResetServer(i int) {
	j.mu.Lock()
	defer j.mu.Unlock()
	rest := j.keep(func(c Call) bool { return c.Server != i })
	j.pages, j.n = nil, 0
	for _, c := range rest {
		j.appendCall(c)
	}
}

// recorder adapts the journal to inject.Recorder for one server.
type recorder struct {
	j      *journal
	server int
	addr   string
	skew   time.Duration // WithClockSkew
}

// Received records a new call; its id stays valid across Resets.
func (r recorder) Received(method string, seq uint64, d inject.Decision, at time.Time) int {
	j := r.j
	j.mu.Lock()
	defer j.mu.Unlock()
	j.clock++
	at = at.Add(r.skew)
	c := Call{
		ID: j.nextID, Server: r.server, Addr: r.addr, Method: method, Seq: seq, N: d.Call,
		Received: at, ReceivedAt: j.clock, Rule: d.Rule, DelayRule: d.DelayRule, Delay: d.Delay,
	}
	if d.Fault != nil {
		c.Fault = faults.Rule{Fault: d.Fault}.String() // the fault alone, e.g. error=boom
	}
	j.nextID++
	j.appendCall(c)
	return c.ID
}

// Replied records that the call's reply is about to be written: an error
// reply if errText is not "".
func (r recorder) Replied(id int, errText string, at time.Time) {
	o := OK
	if errText != "" {
		o = Failed
	}
	r.ended(id, o, errText, at)
}

// Hung records that the call's reply was swallowed.
func (r recorder) Hung(id int, at time.Time) { r.ended(id, Hung, "", at) }

// Cut records that the call's reply was written, and then a fault on the
// same connection cut it (see inject.Cutter).
func (r recorder) Cut(id int, what string, _ time.Time) {
	j := r.j
	j.mu.Lock()
	defer j.mu.Unlock()
	c := j.find(id)
	if c == nil || (c.Outcome != OK && c.Outcome != Failed) {
		return // forgotten, or the write failed
	}
	why := fmt.Sprintf("reply written, then the connection was cut by a %s fault on another call in flight", what)
	if c.Err != "" {
		why = c.Err + "; " + why
	}
	c.Outcome, c.Err = Cut, why
}

var _ inject.Cutter = recorder{}

// Held records that a Hold fault keeps the call's reply.
func (r recorder) Held(id int, at time.Time) { r.ended(id, Held, "", at) }

// Aborted records that the call ended without a reply, and why.
func (r recorder) Aborted(id int, why string, at time.Time) { r.ended(id, Aborted, why, at) }

func (r recorder) ended(id int, o Outcome, errText string, at time.Time) {
	at = at.Add(r.skew)
	j := r.j
	j.mu.Lock()
	defer j.mu.Unlock()
	c := j.find(id)
	if c == nil {
		return // forgotten by a Reset
	}
	c.Outcome, c.Err = o, errText
	switch o {
	case OK, Failed:
		j.clock++
		c.Replied, c.RepliedAt = at, j.clock
	default:
		c.Replied, c.RepliedAt = time.Time{}, 0
	}
}

// mergeCalls merges the journals of servers that kept their own (one per
// process): the result is in the order received, and its IDs, ReceivedAt
// and RepliedAt are renumbered fleet-wide from the Received and Replied
// times. Ties keep each server's own order.
func mergeCalls(perServer [][]Call) []Call {
	type event struct {
		at     time.Time
		server int    // position in perServer
		clock  uint64 // the server's own number for the event
		call   *Call
		reply  bool
	}
	var all []Call
	for _, calls := range perServer {
		all = append(all, calls...)
	}
	var events []event
	start := 0
	for s, calls := range perServer {
		for i := range calls {
			c := &all[start+i]
			events = append(events, event{at: c.Received, server: s, clock: c.ReceivedAt, call: c})
			if c.RepliedAt != 0 {
				events = append(events, event{at: c.Replied, server: s, clock: c.RepliedAt, call: c, reply: true})
			}
		}
		start += len(calls)
	}
	slices.SortStableFunc(events, func(a, b event) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		if a.server != b.server {
			return a.server - b.server
		}
		return cmp.Compare(a.clock, b.clock)
	})
	for i, e := range events {
		if e.reply {
			e.call.RepliedAt = uint64(i + 1)
		} else {
			e.call.ReceivedAt = uint64(i + 1)
		}
	}
	slices.SortStableFunc(all, func(a, b Call) int { return cmp.Compare(a.ReceivedAt, b.ReceivedAt) })
	for i := range all {
		all[i].ID = i
	}
	return all
}
