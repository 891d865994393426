package faults

// Blackhole makes the server unreachable without refusing anything, as a
// network that silently drops packets would, during the rule's window
// (from=, for=; without for=, until the plan is replaced). It applies to
// servers, not calls: only servers=, from= and for= narrow it.
//
// While it holds, a new dial hangs in the TCP handshake: it is neither
// completed nor refused, so the client's connect blocks until its own
// timeout or context ends it (an i/o timeout, or the context's error). On
// connections already open the server stops reading: requests sent before
// or during the window get no reply and no error while it holds (replies to
// requests the server had read before the window began are still written).
// When the window ends, or the plan is replaced, or the server is killed
// or stopped, the server serves normally again: hanging dials complete at
// their next SYN retransmission (Linux retries after 1s, 3s, 7s, ...) and
// the requests that waited are read and answered.
//
// The journal holds no entry for a request the server has not read; a
// request caught half-read stays Pending while the blackhole holds, and is
// Aborted if its connection closes.
//
// On the container backend the client dials a port published by Docker,
// whose userland proxy completes the handshake itself: there the dial may
// succeed at once and the first call then hangs instead.
type Blackhole struct{}

func (Blackhole) kind() string { return "blackhole" }
func (Blackhole) text() string { return "blackhole" }

func (*Blackhole) set(key, val string) error { return noValue("blackhole", key, val) }
