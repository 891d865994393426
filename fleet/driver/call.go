package driver

import "time"

// Call is the journal's record of one call received by a server, as
// fleet.Fleet.Calls returns it and a Node reports it.
type Call struct {
	ID     int    // the call's number in the journal: from 0, never reused, not restarted by ResetCalls
	Server int    // index of the server in the fleet
	Addr   string // address of that server
	Method string // e.g. "Service.Method"
	Seq    uint64 // the client's sequence number on its connection
	N      uint64 // the server's call number, counting from 1

	Received time.Time // when the request header was read
	Replied  time.Time // when the reply was written; zero if none was

	// ReceivedAt and RepliedAt order events across the whole fleet: every
	// receipt and every reply takes the next number of one counter, so
	// a.RepliedAt < b.RepliedAt means a's reply was written first.
	// RepliedAt is 0 while no reply was written.
	ReceivedAt uint64
	RepliedAt  uint64

	// A call's faults come in two parts (see faults.Plan): at most one
	// delay and at most one outcome fault, each from the first rule of its
	// part that applied. Rule and Fault name the outcome fault (error,
	// hang, drop, ...); DelayRule and Delay the delay, which held the
	// outcome back from Received.
	Outcome   Outcome
	Rule      int           // index of the outcome rule that applied, or -1
	Fault     string        // text form of that rule's fault; "" if none
	DelayRule int           // index of the delay rule that applied, or -1
	Delay     time.Duration // the delay that rule drew for this call; 0 if none
	Err       string        // error reply text, or why the call was aborted

	// Uncertainty bounds how far Received and Replied may be off the
	// clock of the process that read the journal: 0 for a server on the
	// same clock (in process, in a container of this host's engine); for
	// a server whose clock offset was estimated (package fleet/attach),
	// the estimate's uncertainty, Received and Replied being corrected by
	// the estimated offset. Events of two servers closer together than
	// the sum of their uncertainties cannot be ordered: their ReceivedAt
	// and RepliedAt order is a guess, and the matchers that compare
	// servers' times say "cannot tell".
	Uncertainty time.Duration
}

// Clock is a server's clock against the clock of the process that steers
// it, as a Clocked node estimates it: the server's clock reads Offset
// ahead, give or take Uncertainty.
type Clock struct {
	Offset      time.Duration
	Uncertainty time.Duration
}

// String writes the clock as "+1.5s ±120µs".
func (c Clock) String() string {
	sign := "+"
	if c.Offset < 0 {
		sign = ""
	}
	return sign + c.Offset.String() + " ±" + c.Uncertainty.String()
}

// Outcome says how a call ended on the server: the journal's Call.Outcome.
type Outcome int

const (
	// Pending: the call was received and has not ended yet.
	Pending Outcome = iota
	// OK: a normal reply was written.
	OK
	// Failed: an error reply was written (injected or returned by the method).
	Failed
	// Hung: the reply was swallowed by a Hang fault.
	Hung
	// Aborted: the connection closed before the reply could be written.
	Aborted
	// Cut: a reply (or an error reply) was written, then a fault of
	// another call on the same connection (drop, reset, corrupt,
	// truncate, crash), in flight while it was written, cut the
	// connection: the client may not have read the reply by then, and a
	// client that fails every call in flight on a connection it sees
	// fail reports an error. Replied and RepliedAt say when it was
	// written; Err says which fault cut it (after the error reply's
	// text, if it was one).
	Cut
	// Held: a Hold fault keeps the reply until the test releases it
	// (fleet.Fleet.Release); it then ends as OK or Failed, or Aborted if
	// its connection closed first.
	Held
)

// String returns the outcome's name as the journal and matchers print it.
func (o Outcome) String() string {
	switch o {
	case Pending:
		return "pending"
	case OK:
		return "ok"
	case Failed:
		return "error"
	case Hung:
		return "hung"
	case Aborted:
		return "aborted"
	case Cut:
		return "cut"
	case Held:
		return "held"
	}
	return "unknown"
}
