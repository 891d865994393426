package caller_test

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/rpc"
	"net/rpc/jsonrpc"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onsi/gomega"
	"github.com/onsi/gomega/gleak"

	"github.com/rpcfleet/rpcfleet/caller"
)

// Echo is the receiver of the plain net/rpc servers of these tests.
type Echo struct {
	name  string
	delay time.Duration // of Slow
	stop  chan struct{} // closed when the server stops: ends Hang and Slow
}

// Say replies "name: s".
func (e *Echo) Say(s string, reply *string) error {
	*reply = e.name + ": " + s
	return nil
}

// Fail replies with the error s.
func (e *Echo) Fail(s string, reply *string) error { return errors.New(s) }

// Hang never replies while the server runs.
func (e *Echo) Hang(s string, reply *string) error {
	<-e.stop
	return errors.New("stopped")
}

// Slow is Say after the server's delay.
func (e *Echo) Slow(s string, reply *string) error {
	select {
	case <-time.After(e.delay):
	case <-e.stop:
	}
	return e.Say(s, reply)
}

// protocols are the protocols under test.
var protocols = []caller.Protocol{caller.Gob, caller.HTTP, caller.JSONRPC}

// listen listens on 127.0.0.1 or on a unix socket in t's temporary
// directory; the listener records its connections, and Close closes them
// and waits for the goroutines started by serve.
func listen(t *testing.T, network, name string) *listener {
	t.Helper()
	addr := "127.0.0.1:0"
	if network == "unix" {
		addr = filepath.Join(t.TempDir(), name+".sock")
	}
	l, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	ln := &listener{Listener: l}
	t.Cleanup(ln.close)
	return ln
}

// listener is a net.Listener that closes the connections it accepted.
type listener struct {
	net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns []net.Conn
}

func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.mu.Lock()
		l.conns = append(l.conns, c)
		l.mu.Unlock()
	}
	return c, err
}

// addr is the address a caller dials: host:port or the socket's path.
func (l *listener) addr() string { return l.Addr().String() }

// serve runs f in a goroutine that close waits for.
func (l *listener) serve(f func()) { l.wg.Go(f) }

func (l *listener) close() {
	l.Listener.Close()
	l.mu.Lock()
	for _, c := range l.conns {
		c.Close()
	}
	l.mu.Unlock()
	l.wg.Wait()
}

// startServer starts a standard-library net/rpc server of protocol p on
// network with e as its receiver, and returns its address; t's cleanup
// stops it, waiting for its goroutines.
func startServer(t *testing.T, p caller.Protocol, network string, e *Echo) string {
	t.Helper()
	srv := rpc.NewServer()
	if err := srv.Register(e); err != nil {
		t.Fatal(err)
	}
	l := listen(t, network, e.name)
	t.Cleanup(func() { close(e.stop) }) // runs before l's close: ends Hang and Slow
	switch p {
	case caller.HTTP:
		// What rpc.HandleHTTP does, on a mux of this server's own.
		mux := http.NewServeMux()
		mux.Handle(rpc.DefaultRPCPath, srv)
		hs := &http.Server{Handler: mux}
		l.serve(func() { hs.Serve(l) })
		t.Cleanup(func() { hs.Close() }) // hijacked connections are l's to close
	default:
		l.serve(func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				l.serve(func() {
					if p == caller.JSONRPC {
						// jsonrpc.ServeConn, on this server rather than rpc.DefaultServer.
						srv.ServeCodec(jsonrpc.NewServerCodec(c))
					} else {
						srv.ServeConn(c)
					}
				})
			}
		})
	}
	return l.addr()
}

// startServers starts n servers "s0", "s1", ...; delays[i], if given, is
// server i's delay of Slow.
func startServers(t *testing.T, p caller.Protocol, network string, n int, delays ...time.Duration) []string {
	t.Helper()
	addrs := make([]string, n)
	for i := range addrs {
		e := &Echo{name: fmt.Sprintf("s%d", i), stop: make(chan struct{})}
		if i < len(delays) {
			e.delay = delays[i]
		}
		addrs[i] = startServer(t, p, network, e)
	}
	return addrs
}

// noLeaks fails t if goroutines started during t outlive its cleanups;
// call it first, so that its check runs last.
func noLeaks(t *testing.T) {
	base := gleak.Goroutines()
	t.Cleanup(func() {
		gomega.NewWithT(t).Eventually(gleak.Goroutines).WithTimeout(5 * time.Second).ShouldNot(gleak.HaveLeaked(base))
	})
}

// forEachTransport runs f for every protocol over TCP and unix sockets.
func forEachTransport(t *testing.T, f func(t *testing.T, p caller.Protocol, network string)) {
	for _, p := range protocols {
		for _, network := range []string{"tcp", "unix"} {
			t.Run(p.String()+"/"+network, func(t *testing.T) {
				noLeaks(t)
				f(t, p, network)
			})
		}
	}
}

func TestProtocolReplies(t *testing.T) {
	forEachTransport(t, func(t *testing.T, p caller.Protocol, network string) {
		addrs := startServers(t, p, network, 3)
		c := caller.New(caller.WithProtocol(p))
		defer c.Close()
		for round := range 2 { // the second on pooled connections
			results, err := caller.FanOut[string, string](t.Context(), c, addrs, "Echo.Say", "hi")
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
			for i, r := range results {
				if want := fmt.Sprintf("s%d: hi", i); r.Reply != want || r.Addr != addrs[i] || r.From != addrs[i] {
					t.Errorf("round %d: results[%d] = %+v, want reply %q from %s", round, i, r, want, addrs[i])
				}
			}
		}
	})
}

func TestProtocolErrorReply(t *testing.T) {
	forEachTransport(t, func(t *testing.T, p caller.Protocol, network string) {
		addrs := startServers(t, p, network, 3)
		c := caller.New(caller.WithProtocol(p))
		defer c.Close()
		results, err := caller.FanOut[string, string](t.Context(), c, addrs, "Echo.Fail", "boom")
		var fe *caller.FanOutError
		if !errors.As(err, &fe) || len(fe.Errs) != 3 {
			t.Fatalf("err = %v, want a *FanOutError naming the 3 addresses", err)
		}
		for i, r := range results {
			var se rpc.ServerError
			if !errors.As(r.Err, &se) || string(se) != "boom" {
				t.Errorf("results[%d].Err = %v (%T), want rpc.ServerError(\"boom\")", i, r.Err, r.Err)
			}
			if ce := fe.Errs[i]; ce.Index != i || ce.Addr != addrs[i] || !errors.As(ce, &se) {
				t.Errorf("Errs[%d] = %+v, want index %d, %s, an rpc.ServerError", i, ce, i, addrs[i])
			}
		}
		// An error reply does not break the connection.
		if _, err := caller.FanOut[string, string](t.Context(), c, addrs, "Echo.Say", "hi"); err != nil {
			t.Errorf("fan-out after the error replies: %v", err)
		}
	})
}

func TestProtocolHangTimesOut(t *testing.T) {
	const timeout = 200 * time.Millisecond
	forEachTransport(t, func(t *testing.T, p caller.Protocol, network string) {
		addrs := startServers(t, p, network, 3)
		c := caller.New(caller.WithProtocol(p), caller.WithTimeout(timeout))
		defer c.Close()
		start := time.Now()
		results, err := caller.FanOut[string, string](t.Context(), c, addrs, "Echo.Hang", "hi")
		if d := time.Since(start); d > 10*timeout {
			t.Errorf("fan-out took %v, want about %v", d, timeout)
		}
		var fe *caller.FanOutError
		if !errors.As(err, &fe) || len(fe.Errs) != 3 {
			t.Fatalf("err = %v, want a *FanOutError naming the 3 addresses", err)
		}
		for i, r := range results {
			var te *caller.TimeoutError
			if !errors.As(r.Err, &te) || te.Dial || te.After != timeout {
				t.Errorf("results[%d].Err = %v (%T), want a call's *TimeoutError after %v", i, r.Err, r.Err, timeout)
			}
		}
	})
}

// Strategies work on every protocol: a hedge wins for the slow server, a
// quorum cancels the hanging one, retries and fail-fast see error
// replies.
func TestProtocolStrategies(t *testing.T) {
	forEachTransport(t, func(t *testing.T, p caller.Protocol, network string) {
		addrs := startServers(t, p, network, 3, 0, time.Hour, 0)

		t.Run("hedge", func(t *testing.T) {
			c := caller.New(caller.WithProtocol(p), caller.WithHedge(50*time.Millisecond, 1))
			defer c.Close()
			results, err := caller.FanOut[string, string](t.Context(), c, addrs, "Echo.Slow", "hi")
			if err != nil {
				t.Fatal(err)
			}
			if r := results[1]; !r.Hedged || r.From != addrs[2] || r.Reply != "s2: hi" || r.Attempts != 2 {
				t.Errorf("results[1] = %+v, want a hedge answered by s2 (%s)", r, addrs[2])
			}
		})
		t.Run("quorum", func(t *testing.T) {
			c := caller.New(caller.WithProtocol(p), caller.WithQuorum(2))
			defer c.Close()
			results, err := caller.FanOut[string, string](t.Context(), c, addrs, "Echo.Slow", "hi")
			if err != nil {
				t.Fatal(err)
			}
			if r := results[1]; !r.Cancelled || !errors.Is(r.Err, caller.ErrCancelled) {
				t.Errorf("results[1] = %+v, want cancelled by the quorum", r)
			}
		})
		t.Run("retry and fail-fast", func(t *testing.T) {
			c := caller.New(caller.WithProtocol(p), caller.WithFailFast(), caller.WithConcurrency(1),
				caller.WithRetry(2, time.Millisecond, time.Millisecond))
			defer c.Close()
			results, err := caller.FanOut[string, string](t.Context(), c, addrs, "Echo.Fail", "boom")
			var fe *caller.FanOutError
			if !errors.As(err, &fe) || len(fe.Errs) != 1 || fe.Cancelled != 2 || !errors.As(err, new(rpc.ServerError)) {
				t.Fatalf("err = %v, want s0's rpc.ServerError, 2 cancelled", err)
			}
			if r := results[0]; r.Attempts != 2 {
				t.Errorf("results[0].Attempts = %d, want 2", r.Attempts)
			}
		})
	})
}

// A server that accepts connections but never answers the CONNECT ends as
// a *TimeoutError, the dial's or the call's, whichever is shorter: never
// a hang.
func TestHTTPHandshakeThatHangsIsATimeout(t *testing.T) {
	for _, tc := range []struct {
		name       string
		call, dial time.Duration
		wantDial   bool
		wantAfter  time.Duration
	}{
		{"dial timeout first", 5 * time.Second, 200 * time.Millisecond, true, 200 * time.Millisecond},
		{"call timeout first", 200 * time.Millisecond, 5 * time.Second, false, 200 * time.Millisecond},
	} {
		for _, network := range []string{"tcp", "unix"} {
			t.Run(tc.name+"/"+network, func(t *testing.T) {
				noLeaks(t)
				addrs := startServers(t, caller.HTTP, network, 2)
				mute := listen(t, network, "mute")
				mute.serve(func() {
					for {
						if _, err := mute.Accept(); err != nil {
							return
						}
					}
				})
				addrs = append(addrs, mute.addr())
				c := caller.New(caller.WithProtocol(caller.HTTP), caller.WithTimeout(tc.call), caller.WithDialTimeout(tc.dial))
				defer c.Close()

				start := time.Now()
				results, err := caller.FanOut[string, string](t.Context(), c, addrs, "Echo.Say", "hi")
				if d := time.Since(start); d > tc.wantAfter+time.Second {
					t.Errorf("fan-out took %v, want about %v", d, tc.wantAfter)
				}
				var fe *caller.FanOutError
				if !errors.As(err, &fe) || !slices.Equal(fe.Addrs(), addrs[2:]) {
					t.Fatalf("err = %v, want one naming %s only", err, addrs[2])
				}
				var te *caller.TimeoutError
				if !errors.As(results[2].Err, &te) || te.Dial != tc.wantDial || te.After != tc.wantAfter {
					t.Errorf("results[2].Err = %v (%T), want a *TimeoutError with Dial %v, After %v",
						results[2].Err, results[2].Err, tc.wantDial, tc.wantAfter)
				}
			})
		}
	}
}

// An HTTP server that is not a net/rpc one fails the handshake with an
// error that says what it answered and what was expected.
func TestHTTPHandshakeWrongAnswer(t *testing.T) {
	noLeaks(t)
	l := listen(t, "tcp", "web")
	hs := &http.Server{Handler: http.NewServeMux()} // 404 for every path
	l.serve(func() { hs.Serve(l) })
	t.Cleanup(func() { hs.Close() })
	c := caller.New(caller.WithProtocol(caller.HTTP))
	defer c.Close()

	_, err := caller.Call[string, string](t.Context(), c, l.addr(), "Echo.Say", "hi")
	if err == nil || !strings.Contains(err.Error(), `"404 Not Found"`) || !strings.Contains(err.Error(), `"200 Connected to Go RPC"`) {
		t.Errorf("err = %v, want one quoting the 404 and the status expected", err)
	}
}

// A Protocol that is none of the constants fails every dial, clearly.
func TestUnknownProtocol(t *testing.T) {
	c := caller.New(caller.WithProtocol(caller.Protocol(9)))
	defer c.Close()
	_, err := caller.Call[string, string](t.Context(), c, "127.0.0.1:1", "Echo.Say", "hi")
	if err == nil || !strings.Contains(err.Error(), "caller: unknown Protocol(9)") {
		t.Errorf("err = %v, want one naming the unknown Protocol(9)", err)
	}
}
