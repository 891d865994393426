package faults

// Refuse makes the server stop accepting: its listener closes, so new
// connections are refused, during the rule's window (from=, for=; without
// for=, until the plan is replaced). Connections already open keep working.
// It applies to servers, not calls: only servers=, from= and for= narrow it.
//
// The client observes syscall.ECONNREFUSED when it dials during the window.
type Refuse struct{}

func (Refuse) kind() string { return "refuse" }
func (Refuse) text() string { return "refuse" }

func (*Refuse) set(key, val string) error { return noValue("refuse", key, val) }
