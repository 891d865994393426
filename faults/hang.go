package faults

// Hang swallows the reply: the server never answers the call.
//
// The client observes nothing: the call stays pending until the client
// gives up (a timeout) or the connection closes (rpc.ErrShutdown or
// io.ErrUnexpectedEOF). Stopping the server still returns promptly, since
// nothing waits on a hung call.
type Hang struct{}

func (Hang) kind() string { return "hang" }
func (Hang) text() string { return "hang" }

func (*Hang) set(key, val string) error { return noValue("hang", key, val) }
