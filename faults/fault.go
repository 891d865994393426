package faults

// Fault is one kind of misbehaviour. Its String method gives the text form
// of the fault alone (kind and its own settings, without targeting keys).
// The kinds are Delay, Error and Hang.
type Fault interface {
	// Kind is the name of the fault in the text form, e.g. "delay".
	Kind() string
	String() string
}

var (
	_ Fault = Delay{}
	_ Fault = Error{}
	_ Fault = Hang{}
)
