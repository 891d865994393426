// Package memnet is an in-memory network for one process: listeners and
// connections that are Go values, with no socket, no file descriptor and
// no timer but those of the deadlines a user sets. A fleet started with
// fleet.WithMemory serves on one; its Dial reaches it.
//
// It behaves as loopback TCP does where net/rpc servers and clients can
// tell: a dial completes once queued in the listener's backlog, not when
// accepted; a dial to a closed listener is refused
// (syscall.ECONNREFUSED); written bytes are buffered (up to a window,
// beyond which writes wait for the reader, as on a full socket buffer);
// a close is seen as io.EOF once the bytes before it are read, and a
// close after SetLinger(0) as syscall.ECONNRESET at once; deadlines make
// reads, writes, accepts and dials fail with os.ErrDeadlineExceeded.
//
// Every wait is on a channel made by the network's own calls, so code
// that uses a Network started inside a testing/synctest bubble is
// durably blocked while it waits, and the bubble's clock can advance.
//
// This package is machinery behind package fleet, not part of rpcfleet's
// API.
package memnet
