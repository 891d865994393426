package faults

// Reset closes the connection with a TCP RST (SO_LINGER 0) instead of
// replying.
//
// The client observes "connection reset by peer" (syscall.ECONNRESET) or
// io.ErrUnexpectedEOF, depending on when its reader notices, for every
// call pending on the connection.
type Reset struct{}

func (Reset) kind() string { return "reset" }
func (Reset) text() string { return "reset" }

func (*Reset) set(key, val string) error { return noValue("reset", key, val) }
