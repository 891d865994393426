package faults

// Crash takes the whole server down when a call it applies to arrives: the
// listener and every connection close, the call gets no reply. Narrow it to
// the call to crash on, e.g. crash,after=5 crashes on the sixth call. The
// server stays down until restarted.
//
// The client observes io.ErrUnexpectedEOF or ECONNRESET for calls pending on
// the server, then syscall.ECONNREFUSED on redial.
type Crash struct{}

func (Crash) kind() string { return "crash" }
func (Crash) text() string { return "crash" }

func (*Crash) set(key, val string) error { return noValue("crash", key, val) }
