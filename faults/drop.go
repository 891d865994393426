package faults

// Drop closes the connection instead of replying (a FIN, no reply).
//
// The client observes the connection end: every call pending on it fails
// with io.ErrUnexpectedEOF, later ones with rpc.ErrShutdown until it
// redials.
type Drop struct{}

func (Drop) kind() string { return "drop" }
func (Drop) text() string { return "drop" }

func (*Drop) set(key, val string) error { return noValue("drop", key, val) }
