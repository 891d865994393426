package caller

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/rpc"
	"net/rpc/jsonrpc"
	"strings"
	"time"
)

// Protocol is how a Caller speaks net/rpc on a connection: one of the
// three transports a standard-library server offers (rpc.ServeConn,
// rpc.HandleHTTP, jsonrpc.ServeConn). Choose it with WithProtocol; the
// zero value is Gob.
//
// It is a closed set of constants rather than a hook returning an
// rpc.ClientCodec because HTTP is not a codec but a handshake before
// gob, and these three are every transport net/rpc and net/rpc/jsonrpc
// speak; one option with a value, rather than an option per protocol,
// says that they exclude each other.
type Protocol int

const (
	// Gob is net/rpc's own protocol, gob on the bare connection, as
	// rpc.Dial speaks it. The default.
	Gob Protocol = iota

	// HTTP is net/rpc over HTTP, as rpc.DialHTTP speaks it: on each new
	// connection the Caller sends "CONNECT /_goRPC_ HTTP/1.0"
	// (rpc.DefaultRPCPath), requires the status "200 Connected to Go RPC"
	// in reply, and then speaks gob. The handshake is part of the dial:
	// the dial timeout and the call's timeout and ctx bound it.
	HTTP

	// JSONRPC is JSON-RPC 1.0, as jsonrpc.Dial speaks it. An error reply
	// is an rpc.ServerError, as with gob.
	JSONRPC
)

// String returns "gob", "http" or "jsonrpc".
func (p Protocol) String() string {
	switch p {
	case Gob:
		return "gob"
	case HTTP:
		return "http"
	case JSONRPC:
		return "jsonrpc"
	}
	return fmt.Sprintf("Protocol(%d)", int(p))
}

// network is the network the default dialer uses for addr: "unix" for a
// socket path, that is an address containing a '/' (write "./sock" for a
// socket in the working directory), else "tcp". A host:port never
// contains a '/', so the rule cannot misread one; a prefix such as
// "unix:" could ("unix:80" is a host named unix).
func network(addr string) string {
	if strings.Contains(addr, "/") {
		return "unix"
	}
	return "tcp"
}

// connected is the status line of a net/rpc HTTP server's answer to
// CONNECT (net/rpc's unexported connected).
const connected = "200 Connected to Go RPC"

// aLongTimeAgo is a deadline in the past: it ends blocked reads and
// writes at once.
var aLongTimeAgo = time.Unix(1, 0)

// connectHTTP makes rpc.DialHTTP's handshake on c: the request on
// rpc.DefaultRPCPath, then the response, which must be "200 Connected to
// Go RPC". When ctx ends first, a deadline in the past ends the
// handshake and the error wraps ctx's; otherwise c is left with no
// deadline. The caller closes c if it fails.
func connectHTTP(ctx context.Context, c net.Conn) error {
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(aLongTimeAgo) })
	err := handshake(c)
	if !stop() {
		// ctx ended: the deadline is set (or being set), and c is spoilt.
		return fmt.Errorf("caller: HTTP handshake: %w", ctx.Err())
	}
	return err
}

// handshake is connectHTTP without the bound.
func handshake(c net.Conn) error {
	if _, err := io.WriteString(c, "CONNECT "+rpc.DefaultRPCPath+" HTTP/1.0\n\n"); err != nil {
		return fmt.Errorf("caller: HTTP handshake: %w", err)
	}
	// Bytes read beyond the response would be lost, as in rpc.DialHTTP:
	// a net/rpc server sends none before the first request.
	resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: "CONNECT"})
	if err != nil {
		return fmt.Errorf("caller: HTTP handshake: %w", err)
	}
	if resp.Status != connected {
		return fmt.Errorf("caller: HTTP handshake: CONNECT %s answered %q, want %q (is it a net/rpc HTTP server?)",
			rpc.DefaultRPCPath, resp.Status, connected)
	}
	return nil
}

// newClient returns the rpc.Client of protocol p on c, whose handshake
// (if any) is done.
func newClient(p Protocol, c net.Conn) *rpc.Client {
	if p == JSONRPC {
		return jsonrpc.NewClient(c)
	}
	return rpc.NewClient(c)
}
