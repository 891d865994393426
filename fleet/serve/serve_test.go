package serve_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/rpc"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/fleet/driver"
	"github.com/rpcfleet/rpcfleet/fleet/serve"
)

// Echo is a user's receiver: it answers with its server's index.
type Echo struct{ index int }

func newEcho(index int) any { return &Echo{index} }

func (e *Echo) Say(s string, r *string) error {
	*r = fmt.Sprintf("%s from %d", s, e.index)
	return nil
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string // the first line of stderr
	}{
		{"count zero", []string{"--count", "0"}, "--count 0: need at least one server"},
		{"bad faults", []string{"--faults", "bogus=1"}, `--faults: `},
		{"port out of range", []string{"--port", "65535", "--count", "2"}, "--port 65535 with --count 2: ports must lie in 0..65535"},
		{"control port out of range", []string{"--control-port", "-2"}, "--control-port -2 with --count 3"},
		{"negative index", []string{"--index", "-1"}, "--index -1: must not be negative"},
		{"unknown flag", []string{"--nope"}, "unknown flag: --nope"},
		{"not a number", []string{"--count", "many"}, `invalid argument "many" for "-n, --count"`},
		{"stray argument", []string{"extra"}, `unknown command "extra"`},
		{"unix with a port", []string{"--unix", ".", "--port", "9000"}, "--unix . with --port 9000: sockets have no ports"},
		{"overlapping port ranges", []string{"--port", "39000", "--count", "3", "--control-port", "39001"},
			"--port 39000 and --control-port 39001 with --count 3: the ranges 39000-39002 and 39001-39003 overlap"},
		{"fleet size below index and count", []string{"--fleet-size", "1", "--count", "3"},
			"--fleet-size 1 below --index 0 + --count 3: the fleet holds at least servers 0..2"},
		{"index beyond MaxServers", []string{"--index", "70000"}, "--index 70000 with --count 3: server indices must stay below fleet.MaxServers (65535)"},
		{"control beyond loopback without a token", []string{"--host", "0.0.0.0", "--control-port", "0"},
			"--control-port with --host 0.0.0.0 needs --control-token (or RPCFLEET_CONTROL_TOKEN)"},
		{"negative request size", []string{"--max-request-size", "-1"}, "--max-request-size -1: must not be negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(serve.TokenEnv, "")
			var stdout, stderr bytes.Buffer
			code := serve.Run(t.Context(), tc.args, &stdout, &stderr, fleet.WithService("Echo", newEcho))
			if code != 2 {
				t.Errorf("exit code %d, want 2 (stderr %q)", code, stderr.String())
			}
			first, rest, _ := strings.Cut(stderr.String(), "\n")
			if !strings.Contains(first, tc.want) || !strings.HasPrefix(first, "serve.test: ") {
				t.Errorf("stderr's first line %q, want serve.test: and %q", first, tc.want)
			}
			if !strings.HasPrefix(rest, "Run 'serve.test --help' for usage.") {
				t.Errorf("stderr's second line %q, want the --help hint", rest)
			}
			if stdout.Len() > 0 {
				t.Errorf("stdout %q, want nothing", stdout.String())
			}
		})
	}
}

// running is a Run in progress: the lines it printed, and its exit code.
type running struct {
	lines  [][]string
	stderr *bytes.Buffer
	code   chan int
}

// start runs serve.Run with args until ctx ends, and reads the n lines it
// prints first.
func start(t *testing.T, ctx context.Context, n int, args []string, opts ...fleet.Option) *running {
	t.Helper()
	pr, pw := io.Pipe()
	r := &running{stderr: new(bytes.Buffer), code: make(chan int, 1)}
	go func() {
		code := serve.Run(ctx, args, pw, r.stderr, opts...)
		pw.Close()
		r.code <- code
	}()
	sc := bufio.NewScanner(pr)
	for len(r.lines) < n && sc.Scan() {
		r.lines = append(r.lines, strings.Fields(sc.Text()))
	}
	go io.Copy(io.Discard, pr) // nothing more is printed; never block Run
	if len(r.lines) != n {
		t.Fatalf("Run printed %q, want %d lines (stderr %q, exit %d)", r.lines, n, r.stderr.String(), <-r.code)
	}
	return r
}

// wait returns Run's exit code once it has returned.
func (r *running) wait(t *testing.T) int {
	t.Helper()
	select {
	case code := <-r.code:
		return code
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return within 10s of the end of its ctx")
		return -1
	}
}

// Run serves a receiver given as a fleet option beside the default
// service, with the faults of --faults targeting its methods, and stops
// cleanly, exit 0, when its ctx ends.
func TestServesTheUsersReceiver(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	r := start(t, ctx, 2, []string{"--count", "2", "--index", "5", "--faults", "error=echo down,method=Echo.Say,servers=6"},
		fleet.WithService("Echo", newEcho))
	for i, line := range r.lines {
		if len(line) != 1 {
			t.Fatalf("line %d: %q, want one address", i, line)
		}
		c, err := rpc.Dial("tcp", line[0])
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		var got string
		err = c.Call("Echo.Say", "hi", &got)
		switch i {
		case 0:
			if err != nil || got != "hi from 5" {
				t.Errorf("server 5: Echo.Say = %q, %v; want hi from 5", got, err)
			}
		case 1:
			if err == nil || err.Error() != "echo down" {
				t.Errorf("server 6: Echo.Say = %q, %v; want the injected error", got, err)
			}
		}
		var m fleet.Reply
		if err := c.Call("Service.Method", fleet.Args{Name: "x"}, &m); err != nil {
			t.Errorf("server %d: the default service: %v", 5+i, err)
		}
	}
	cancel()
	if code := r.wait(t); code != 0 || r.stderr.Len() > 0 {
		t.Errorf("after ctx ended: exit %d, stderr %q; want 0 and nothing", code, r.stderr.String())
	}
}

// With --control-port every line is "DATA CONTROL", and the control
// endpoint's journal names the user's method.
func TestControlPortJournalsTheUsersMethod(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	r := start(t, ctx, 1, []string{"--count", "1", "--control-port", "0", "--fleet-id", "mine"}, fleet.WithService("Echo", newEcho))
	if len(r.lines[0]) != 2 {
		t.Fatalf("printed %q, want DATA CONTROL", r.lines[0])
	}
	c, err := rpc.Dial("tcp", r.lines[0][0])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var got string
	if err := c.Call("Echo.Say", "hi", &got); err != nil {
		t.Fatal(err)
	}
	cc, err := driver.DialControl(ctx, r.lines[0][1])
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	if h, err := cc.Health(ctx); err != nil || h.FleetID != "mine" {
		t.Errorf("Health() = %+v, %v; want fleet id mine", h, err)
	}
	calls, err := cc.Journal(ctx)
	if err != nil || len(calls) != 1 || calls[0].Method != "Echo.Say" {
		t.Errorf("Journal() = %+v, %v; want one call of Echo.Say", calls, err)
	}
	cancel()
	if code := r.wait(t); code != 0 {
		t.Errorf("exit %d, stderr %q", code, r.stderr.String())
	}
}

// A failure to serve exits with 1 and names what failed: a port in use,
// a receiver net/rpc refuses.
func TestFailures(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	type nothing struct{}
	for _, tc := range []struct {
		name string
		args []string
		opts []fleet.Option
		want string
	}{
		{"port in use", []string{"--count", "1", "--port", port}, nil, "127.0.0.1:" + port},
		{"no methods", []string{"--count", "1"}, []fleet.Option{fleet.WithService("Nothing", func(int) any { return &nothing{} })}, `WithService("Nothing")`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := serve.Run(t.Context(), tc.args, &stdout, &stderr, tc.opts...); code != 1 {
				t.Errorf("exit code %d, want 1", code)
			}
			if !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("stderr %q, want it to name %s", stderr.String(), tc.want)
			}
		})
	}
}

// Beyond loopback, serve warns that the data ports take no credentials,
// and its control ports take the token from the environment.
func TestServeBeyondLoopback(t *testing.T) {
	t.Setenv(serve.TokenEnv, "from-env")
	ctx, cancel := context.WithCancel(t.Context())
	r := start(t, ctx, 1, []string{"--count", "1", "--host", "0.0.0.0", "--control-port", "0"})
	data, ctl := r.lines[0][0], r.lines[0][1]
	_, port, _ := net.SplitHostPort(ctl)
	dctx, dcancel := context.WithTimeout(ctx, 10*time.Second)
	defer dcancel()
	for _, tc := range []struct {
		token string
		ok    bool
	}{{"", false}, {"from-env", true}} {
		cc, err := driver.DialControl(dctx, net.JoinHostPort("127.0.0.1", port), driver.WithToken(tc.token))
		if err != nil {
			t.Fatal(err)
		}
		_, err = cc.Health(dctx)
		cc.Close()
		if (err == nil) != tc.ok {
			t.Errorf("Health with token %q: %v, want ok=%v", tc.token, err, tc.ok)
		}
	}
	if !strings.HasPrefix(data, "0.0.0.0:") && !strings.HasPrefix(data, "[::]:") {
		t.Errorf("data address %q, want one on every interface", data)
	}
	cancel()
	if code := r.wait(t); code != 0 {
		t.Errorf("exit code %d", code)
	}
	if want := "warning: --host 0.0.0.0: the data ports are reachable beyond this host, and they take no credentials"; !strings.Contains(r.stderr.String(), want) {
		t.Errorf("stderr %q, want the warning %q", r.stderr.String(), want)
	}
}
