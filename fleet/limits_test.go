package fleet_test

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"io"
	"net"
	"net/rpc"
	"net/rpc/jsonrpc"
	"strings"
	"testing"
	"time"

	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/fleet/driver"
)

// start1 starts a one-server fleet with opts, stopped when t ends.
func start1(t *testing.T, opts ...fleet.Option) *fleet.Fleet {
	t.Helper()
	return start(t, append([]fleet.Option{fleet.WithServers(1)}, opts...)...)
}

// closedByServer waits (up to 10s, a bound against hanging, not a timing
// assertion) for the server to close c, reading and dropping what it
// sends; it fails the test if c stays open.
func closedByServer(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := io.Copy(io.Discard, c)
	if errors.Is(err, net.ErrClosed) || errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
		t.Fatalf("the server left the connection open: %v", err)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// servesOthers checks that the server still answers a new client.
func servesOthers(t *testing.T, f *fleet.Fleet) {
	t.Helper()
	c, err := rpc.Dial("tcp", f.Addrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var r fleet.Reply
	if err := c.Call("Service.Method", fleet.Args{Name: "other"}, &r); err != nil {
		t.Errorf("a call of another client: %v", err)
	}
}

// abortedOverLimit returns the journal's calls aborted for their size.
func abortedOverLimit(t *testing.T, f *fleet.Fleet) []fleet.Call {
	t.Helper()
	calls, err := f.Calls(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var out []fleet.Call
	for _, c := range calls {
		if c.Outcome == fleet.Aborted && strings.Contains(c.Err, "over the limit") {
			out = append(out, c)
		}
	}
	return out
}

// A gob message that claims 4 GiB is refused on its length prefix: the
// connection is closed, the journal says why, nothing is buffered.
func TestRequestClaimingFourGiBIsRefused(t *testing.T) {
	f := start1(t)
	c, err := net.Dial("tcp", f.Addrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// gob's uint 1<<32: a byte count negated (-5), then 5 bytes.
	if _, err := c.Write([]byte{0xfb, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00}); err != nil {
		t.Fatal(err)
	}
	closedByServer(t, c)
	got := abortedOverLimit(t, f)
	if len(got) != 1 || !strings.Contains(got[0].Err, "request of 4294967296 bytes or more, over the limit of 4194304") {
		t.Errorf("journal %+v, want one call aborted for its 4 GiB claim", got)
	}
	servesOthers(t, f)
}

// A request body over WithMaxRequestSize closes the connection, and the
// journal names the call's method; within the bound it is served.
func TestRequestBodyOverTheLimit(t *testing.T) {
	for _, proto := range []string{"gob", "json"} {
		t.Run(proto, func(t *testing.T) {
			f := start1(t, fleet.WithMaxRequestSize(4096))
			dial := rpc.Dial
			if proto == "json" {
				dial = jsonrpc.Dial
			}
			c, err := dial("tcp", f.Addrs()[0])
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			var r fleet.Reply
			if err := c.Call("Service.Method", fleet.Args{Name: strings.Repeat("a", 3000)}, &r); err != nil {
				t.Fatalf("a call within the bound: %v", err)
			}
			err = c.Call("Service.Method", fleet.Args{Name: strings.Repeat("a", 5000)}, &r)
			if err == nil {
				t.Fatal("a call over the bound succeeded")
			}
			got := abortedOverLimit(t, f)
			if len(got) != 1 || !strings.Contains(got[0].Err, "over the limit of 4096: connection closed") {
				t.Fatalf("journal %+v, want one call aborted for its size", got)
			}
			if proto == "gob" && got[0].Method != "Service.Method" {
				t.Errorf("journal names method %q, want Service.Method (its header was read)", got[0].Method)
			}
			servesOthers(t, f)
		})
	}
}

// A client that pipelines requests gets at most WithMaxInFlight of them
// served at once: the server reads no more until replies are written.
// Stopping the fleet still ends every goroutine (the leak check of
// TestMain would fail otherwise).
func TestPipelinedRequestsWaitAtTheCap(t *testing.T) {
	const capped, sent = 8, 100
	f := start1(t, fleet.WithMaxInFlight(capped), fleet.WithFaults(faults.MustParse("delay=1h")))
	c, err := net.Dial("tcp", f.Addrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var buf bytes.Buffer
	enc := gob.NewEncoder(&buf)
	for i := range sent {
		enc.Encode(rpc.Request{ServiceMethod: "Service.Method", Seq: uint64(i)})
		enc.Encode(fleet.Args{Name: "x"})
	}
	if _, err := c.Write(buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	received := func() int {
		calls, err := f.Calls(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return len(calls)
	}
	deadline := time.Now().Add(10 * time.Second)
	for received() < capped && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	// Give the server the chance to read on, were it to.
	time.Sleep(200 * time.Millisecond)
	if n := received(); n != capped {
		t.Errorf("%d of %d pipelined calls received, want the cap of %d", n, sent, capped)
	}
	if err := f.ClearFaults(t.Context()); err != nil {
		t.Fatal(err)
	}
	servesOthers(t, f)
}

// A connection quiet for WithIdleTimeout with no call in flight is
// closed; one whose call is in flight longer than that is not.
func TestIdleConnectionsAreClosed(t *testing.T) {
	// An idle timeout far above a busy machine's scheduling delays, so
	// that only real idleness trips it (100ms once closed a connection
	// between two back-to-back calls under make test's load).
	f := start1(t, fleet.WithIdleTimeout(time.Second), fleet.WithFaults(faults.MustParse("delay=2500ms,first=1")))
	c, err := net.Dial("tcp", f.Addrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	client := rpc.NewClient(c)
	var r fleet.Reply
	if err := client.Call("Service.Method", fleet.Args{Name: "slow"}, &r); err != nil {
		t.Fatalf("a call in flight longer than the idle timeout: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- client.Call("Service.Method", fleet.Args{Name: "late"}, &r) }()
	if err := <-done; err != nil {
		t.Fatalf("a second call: %v", err)
	}
	// Now quiet: the server closes it, and the client's next call fails.
	time.Sleep(2500 * time.Millisecond)
	if err := client.Call("Service.Method", fleet.Args{Name: "after"}, &r); err == nil {
		t.Error("a call on a connection idle beyond the timeout succeeded: it was not closed")
	}
}

// A connection that sends a byte of a request and nothing more is closed
// at the handshake bound: it covers the first request, not only the
// first byte.
func TestHalfAFirstRequestIsClosed(t *testing.T) {
	f := start1(t, fleet.WithHandshakeTimeout(200*time.Millisecond))
	c, err := net.Dial("tcp", f.Addrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte{0x20}); err != nil { // a 32-byte message, never sent
		t.Fatal(err)
	}
	closedByServer(t, c)
	servesOthers(t, f)
}

// The control endpoint takes its token on every call, and with none may
// not listen beyond loopback.
func TestControlToken(t *testing.T) {
	ctx := t.Context()
	f := start1(t, fleet.WithControl(0), fleet.WithControlToken("s3cret"))
	ctl := f.ControlAddrs()[0]
	for _, tc := range []struct {
		name string
		opts []driver.DialOption
		ok   bool
	}{
		{"no token", nil, false},
		{"wrong token", []driver.DialOption{driver.WithToken("s3cre")}, false},
		{"the token", []driver.DialOption{driver.WithToken("s3cret")}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cc, err := driver.DialControl(ctx, ctl, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer cc.Close()
			for name, call := range map[string]func() error{
				"Health":      func() error { _, err := cc.Health(ctx); return err },
				"SetFaults":   func() error { return cc.SetFaults(ctx, faults.MustParse("error=steered")) },
				"ClearFaults": func() error { return cc.ClearFaults(ctx) },
				"Journal":     func() error { _, err := cc.Journal(ctx); return err },
				"Reset":       func() error { return cc.Reset(ctx) },
				"Release":     func() error { return cc.Release(ctx) },
			} {
				err := call()
				if tc.ok && err != nil {
					t.Errorf("%s: %v", name, err)
				}
				if !tc.ok && (err == nil || !strings.Contains(err.Error(), "missing or wrong control token")) {
					t.Errorf("%s: %v, want the token refused", name, err)
				}
			}
		})
	}
	if _, err := fleet.Start(ctx, fleet.WithControl(0), fleet.WithHost("0.0.0.0")); err == nil || !strings.Contains(err.Error(), `WithControl on host "0.0.0.0" needs WithControlToken`) {
		t.Errorf("control on 0.0.0.0 without a token: %v, want it refused", err)
	}
}

// The control endpoint bounds a request's size too.
func TestControlRequestOverTheLimit(t *testing.T) {
	ctx := t.Context()
	f := start1(t, fleet.WithControl(0), fleet.WithMaxRequestSize(1024))
	cc, err := driver.DialControl(ctx, f.ControlAddrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	long := faults.MustParse("error=" + strings.Repeat("x", 2000))
	if err := cc.SetFaults(ctx, long); err == nil {
		t.Fatal("a 2 KB control request under a 1 KB bound succeeded")
	}
	if _, err := cc.Health(ctx); err == nil {
		t.Error("the connection is still open after a request over the bound")
	}
	cc2, err := driver.DialControl(ctx, f.ControlAddrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	defer cc2.Close()
	if _, err := cc2.Health(ctx); err != nil {
		t.Errorf("another control client: %v", err)
	}
}

// A reply written while another call of its connection was in flight,
// which a fault then cut, is journaled as cut, not ok; one written before
// that call arrived stays ok.
func TestReplyCutByAFaultOnAnotherCall(t *testing.T) {
	ctx := t.Context()
	f := start1(t, fleet.WithFaults(faults.MustParse("delay=300ms,after=1,first=2;drop,after=1,first=2")))
	c, err := rpc.Dial("tcp", f.Addrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var r1, r2, r3 fleet.Reply
	if err := c.Call("Service.Method", fleet.Args{Name: "1"}, &r1); err != nil {
		t.Fatal(err)
	}
	dropped := c.Go("Service.Method", fleet.Args{Name: "2"}, &r2, nil)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if calls, _ := f.Calls(ctx); len(calls) == 2 {
			break
		}
	}
	c.Call("Service.Method", fleet.Args{Name: "3"}, &r3) // answered at once, before the drop
	<-dropped.Done
	calls, err := f.Calls(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range calls {
		got = append(got, c.Outcome.String())
	}
	if strings.Join(got, ",") != "ok,aborted,cut" {
		t.Fatalf("journal outcomes %v, want ok, aborted (the drop), cut", got)
	}
	if !strings.Contains(calls[2].Err, "cut by a drop fault") || calls[2].Replied.IsZero() {
		t.Errorf("the cut call: %+v, want its reply time and the drop named", calls[2])
	}
}
