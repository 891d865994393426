package fleet_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/rpc"
	"net/rpc/jsonrpc"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/fleet/driver"
)

// dialers are the real net/rpc clients of the standard library, each
// dialling the same data address with no option.
var dialers = []struct {
	name string
	dial func(addr string) (*rpc.Client, error)
}{
	{"gob", func(a string) (*rpc.Client, error) { return rpc.Dial("tcp", a) }},
	{"http", func(a string) (*rpc.Client, error) { return rpc.DialHTTP("tcp", a) }},
	{"json", func(a string) (*rpc.Client, error) { return jsonrpc.Dial("tcp", a) }},
}

// Every client of the standard library reaches the same port and sees the
// same faults: the reply, an injected error's text, a delay, a drop; the
// journal records each call whatever its protocol.
func TestEveryProtocolOnOnePort(t *testing.T) {
	for _, d := range dialers {
		t.Run(d.name, func(t *testing.T) {
			ctx := t.Context()
			f, err := fleet.Start(ctx, fleet.WithServers(1))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Stop(context.Background())
			addr := f.Addrs()[0]
			plan := "error=boom,first=1;delay=200ms,after=1;drop,after=2"
			if err := f.SetFaults(ctx, faults.MustParse(plan)); err != nil {
				t.Fatal(err)
			}
			c, err := d.dial(addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			var r fleet.Reply
			err = c.Call("Service.Method", fleet.Args{Name: "Ann"}, &r)
			var se rpc.ServerError
			if !errors.As(err, &se) || string(se) != "boom" {
				t.Fatalf("call 1: %v, want the error reply boom", err)
			}
			start := time.Now()
			if err := c.Call("Service.Method", fleet.Args{Name: "Ann"}, &r); err != nil {
				t.Fatalf("call 2: %v", err)
			}
			if took := time.Since(start); took < 200*time.Millisecond {
				t.Errorf("call 2 took %v, want the 200ms delay", took)
			}
			if want := fleet.Greeting("Ann", 0, addr); r.Message != want {
				t.Errorf("reply %q, want %q", r.Message, want)
			}
			if err := c.Call("Service.Method", fleet.Args{Name: "Ann"}, &r); err == nil {
				t.Error("call 3 succeeded, want the connection dropped")
			}
			calls, err := f.Calls(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]string, len(calls))
			for i, c := range calls {
				got[i] = c.Outcome.String()
			}
			if strings.Join(got, ",") != "error,ok,aborted" {
				t.Errorf("journal outcomes %v, want error, ok, aborted", got)
			}
		})
	}
}

// The control port answers every protocol too.
func TestControlPortSpeaksEveryProtocol(t *testing.T) {
	ctx := t.Context()
	f, err := fleet.Start(ctx, fleet.WithServers(1), fleet.WithControl(0))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Stop(context.Background())
	for _, d := range dialers {
		c, err := d.dial(f.ControlAddrs()[0])
		if err != nil {
			t.Fatalf("%s: %v", d.name, err)
		}
		var h driver.Health
		if err := c.Call("Control.Health", struct{}{}, &h); err != nil || h.Index != 0 || !h.Up {
			t.Errorf("%s: Control.Health: %+v, %v", d.name, h, err)
		}
		c.Close()
	}
}

// A client that speaks none of the protocols is closed at once, one that
// sends nothing or half a handshake once the handshake bound has passed,
// and the server goes on serving others.
func TestWrongProtocolIsClosedPromptly(t *testing.T) {
	ctx := t.Context()
	const bound = 300 * time.Millisecond
	f, err := fleet.Start(ctx, fleet.WithServers(1), fleet.WithHandshakeTimeout(bound))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Stop(context.Background())
	addr := f.Addrs()[0]
	for _, tc := range []struct {
		name, send, reply string
	}{
		{"garbage", "\x00\x01\x02garbage\n", ""},
		{"http GET", "GET / HTTP/1.0\r\n\r\n", "HTTP/1.0 405"},
		{"CONNECT elsewhere", "CONNECT /other HTTP/1.0\r\n\r\n", "HTTP/1.0 404"},
		{"nothing", "", ""},
		{"half a handshake", "CONNECT /_goRPC_ HTTP/1.0\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := io.WriteString(c, tc.send); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			got, err := io.ReadAll(c)
			if err != nil {
				t.Fatalf("the server did not close the connection: %v (read %q)", err, got)
			}
			if took := time.Since(start); took > bound+2*time.Second {
				t.Errorf("closed after %v, want within the %v bound", took, bound)
			}
			if !strings.HasPrefix(string(got), tc.reply) {
				t.Errorf("reply %q, want it to start with %q", got, tc.reply)
			}
		})
	}
	c, err := rpc.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var r fleet.Reply
	if err := c.Call("Service.Method", fleet.Args{Name: "x"}, &r); err != nil {
		t.Errorf("a sound client after the bad ones: %v", err)
	}
}

// A JSON-RPC client written with Python 3's standard library alone (socket
// and json) sees the reply, the injected error text, the delay and the
// drop.
func TestPythonJSONRPCClient(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Fatal("python3 is on every machine this project runs on:", err)
	}
	ctx := t.Context()
	f, err := fleet.Start(ctx, fleet.WithServers(1), fleet.WithFaults(faults.MustParse("error=boom,first=1;delay=200ms,after=1;drop,after=2")))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Stop(context.Background())
	out, err := exec.CommandContext(ctx, py, "testdata/jsonrpc_client.py", f.Addrs()[0]).CombinedOutput()
	if err != nil {
		t.Fatalf("python client: %v\n%s", err, out)
	}
	lines := bufio.NewScanner(strings.NewReader(string(out)))
	var got []string
	for lines.Scan() {
		got = append(got, lines.Text())
	}
	want := []string{"error: boom", "result: " + fleet.Greeting("Py", 0, f.Addrs()[0])}
	if len(got) != 4 || got[0] != want[0] || got[1] != want[1] || !strings.HasPrefix(got[2], "took ") || got[3] != "third call: dropped" {
		t.Fatalf("python client printed %q, want %q and the time taken", got, want)
	}
	var ms float64
	if _, err := fmt.Sscanf(got[2], "took %f ms", &ms); err != nil || ms < 200 {
		t.Errorf("python client's second call %s, want at least the 200ms delay", got[2])
	}
}
