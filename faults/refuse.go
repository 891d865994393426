package faults

// Refuse makes the server stop accepting: its listener closes, so new
// connections are refused, during the rule's window (from=, for=; without
// for=, until the plan is replaced). Connections already open keep working.
// It applies to servers, not calls: only servers=, from= and for= narrow it.
//
// The client observes syscall.ECONNREFUSED when it dials during the window.
type Refuse struct{}

// Kind returns "refuse".
func (Refuse) Kind() string { return "refuse" }

// String returns the fault in the text form Parse reads.
func (Refuse) String() string { return "refuse" }

func (Refuse) connFault() {}

func (*Refuse) set(key, val string) error { return noValue("refuse", key, val) }
