package fleet

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/rpc"
	"strings"
	"time"
)

// Every data and control port speaks each protocol net/rpc has, told apart
// by a connection's first bytes: "CONNECT" is rpc.DialHTTP's handshake
// (answered, then gob follows), '{' is JSON-RPC 1.0 (net/rpc/jsonrpc),
// anything else gob (rpc.Dial). Another HTTP method is answered as
// net/rpc's HTTP handler answers it (405), then closed.

// DefaultHandshakeTimeout bounds how long a new connection may take to
// show its protocol (and finish an HTTP handshake) and send its first
// request unless WithHandshakeTimeout says otherwise: one that sends
// nothing, half a handshake or half a request, is closed then. It is
// generous: a client of a thousand servers on a loaded machine under
// -race has been seen to write its first request 13s after its dial.
const DefaultHandshakeTimeout = 30 * time.Second

// The bounds on what one connection can make a server hold, unless
// WithIdleTimeout, WithMaxRequestSize and WithMaxInFlight say otherwise.
// No spec or experiment of rpcfleet's comes near them.
const (
	// DefaultIdleTimeout closes a connection quiet for 5 minutes with no
	// call in flight.
	DefaultIdleTimeout = 5 * time.Minute
	// DefaultMaxRequestSize is 4 MiB, a gRPC server's default receive
	// limit.
	DefaultMaxRequestSize = 4 << 20
	// DefaultMaxInFlight is 1,024 calls per connection.
	DefaultMaxInFlight = 1024
)

// wireProtocol is the protocol a connection speaks once sniffed.
type wireProtocol int

const (
	gobProtocol  wireProtocol = iota // rpc.Dial, or rpc.DialHTTP after its handshake
	jsonProtocol                     // net/rpc/jsonrpc
)

// errNotRPC is the error of a connection that speaks HTTP but not
// net/rpc's CONNECT.
var errNotRPC = errors.New("fleet: an HTTP request other than net/rpc's CONNECT")

// sniff reads c's first bytes through br, within d, answers an HTTP
// CONNECT, and says which protocol follows. c's read deadline stays set:
// it bounds the first request too.
func sniff(c net.Conn, br *bufio.Reader, d time.Duration) (wireProtocol, error) {
	if d <= 0 {
		d = DefaultHandshakeTimeout
	}
	if err := c.SetReadDeadline(time.Now().Add(d)); err != nil {
		return 0, err
	}
	return sniffBytes(br, c)
}

func sniffBytes(br *bufio.Reader, w io.Writer) (wireProtocol, error) {
	first, err := br.Peek(1)
	if err != nil {
		return 0, err
	}
	switch {
	case first[0] == '{':
		return jsonProtocol, nil
	case first[0] < 'A' || first[0] > 'Z':
		return gobProtocol, nil // a gob stream starts with a length byte
	}
	// Letters: an HTTP request line, "METHOD PATH HTTP/1.x".
	line, err := br.ReadString('\n')
	if err != nil {
		return 0, err
	}
	method, rest, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
	path, _, _ := strings.Cut(rest, " ")
	for { // the headers, up to the blank line
		h, err := br.ReadString('\n')
		if err != nil {
			return 0, err
		}
		if h == "\n" || h == "\r\n" {
			break
		}
	}
	switch {
	case method != "CONNECT":
		_, _ = io.WriteString(w, "HTTP/1.0 405 Method Not Allowed\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n405 must CONNECT\n")
		return 0, errNotRPC
	case path != rpc.DefaultRPCPath:
		_, _ = io.WriteString(w, "HTTP/1.0 404 Not Found\r\n\r\n")
		return 0, fmt.Errorf("%w: CONNECT %s, not %s", errNotRPC, path, rpc.DefaultRPCPath)
	}
	_, err = io.WriteString(w, "HTTP/1.0 200 Connected to Go RPC\n\n")
	return gobProtocol, err
}
