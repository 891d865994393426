package fleet

import "github.com/rpcfleet/rpcfleet/fleet/driver"

// Call is the journal's record of one call received by a server: who
// received it, when, which faults applied and how it ended (see
// driver.Call for its fields). Calls and ServerCalls return them.
type Call = driver.Call

// Clock is a server's clock offset against this process's, with its
// uncertainty: see Fleet.Clock.
type Clock = driver.Clock

// Outcome says how a call ended on the server: the journal's Call.Outcome.
type Outcome = driver.Outcome

// The outcomes of a call, as Call.Outcome reports them.
const (
	// Pending: the call was received and has not ended yet.
	Pending = driver.Pending
	// OK: a normal reply was written.
	OK = driver.OK
	// Failed: an error reply was written (injected or returned by the method).
	Failed = driver.Failed
	// Hung: the reply was swallowed by a Hang fault.
	Hung = driver.Hung
	// Aborted: the connection closed before the reply could be written.
	Aborted = driver.Aborted
	// Cut: a reply was written, then a fault of another call in flight on
	// the same connection cut it before the client may have read it.
	Cut = driver.Cut
	// Held: a Hold fault keeps the reply until Release or ReleaseAll
	// sends it.
	Held = driver.Held
)
