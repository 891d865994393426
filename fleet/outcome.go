package fleet

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
	}
	return "unknown"
}
