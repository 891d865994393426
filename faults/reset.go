package faults

// Reset closes the connection with a TCP RST (SO_LINGER 0) instead of
// replying.
//
// The client observes "connection reset by peer" (syscall.ECONNRESET) or
// io.ErrUnexpectedEOF, depending on when its reader notices, for every
// call pending on the connection.
type Reset struct{}

// Kind returns "reset".
func (Reset) Kind() string { return "reset" }

// String returns the fault in the text form Parse reads.
func (Reset) String() string { return "reset" }

func (*Reset) set(key, val string) error { return noValue("reset", key, val) }
