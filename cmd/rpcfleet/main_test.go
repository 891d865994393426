package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/rpc"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/fleet/driver"
)

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"count zero", []string{"serve", "--count", "0"}, "--count 0: need at least one server"},
		{"count above the ports", []string{"serve", "--count", "70000"}, "--count 70000: at most 65535 servers, one port each"},
		{"bad fault token", []string{"serve", "--faults", "delay=50ms;bogus=1"}, `"bogus": unknown fault kind`},
		{"bad duration", []string{"serve", "--faults", "delay=5x"}, `"5x": not a duration`},
		{"unreachable rule", []string{"serve", "--faults", "delay=300ms;error=boom;hang"}, `"hang": rule 3 can never apply: rule 2 (error=boom)`},
		{"port out of range", []string{"serve", "--port", "65535", "--count", "2"}, "ports must lie in 0..65535"},
		{"unknown flag", []string{"serve", "--nope"}, "unknown flag: --nope"},
		{"unknown command", []string{"bogus"}, `unknown command "bogus"`},
		{"stray argument", []string{"serve", "extra"}, `unknown command "extra"`},
		{"not a number", []string{"serve", "--count", "many"}, `invalid argument "many"`},
		{"negative fleet size", []string{"serve", "--fleet-size", "-1"}, "--fleet-size -1: must not be negative"},
		{"negative journal limit", []string{"serve", "--journal-limit", "-5"}, "--journal-limit -5: must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, &stdout, &stderr)
			if code != 2 {
				t.Errorf("exit code = %d, want 2 (stderr: %s)", code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tt.want)
			}
		})
	}
}

func TestPortInUseNamesThePort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"serve", "--count", "1", "--port", strconv.Itoa(port)}, &stdout, &stderr)
	if code != 1 {
		t.Errorf("exit code = %d, want 1", code)
	}
	if want := fmt.Sprintf("127.0.0.1:%d", port); !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr = %q, want it to name %s", stderr.String(), want)
	}
}

// TestSeedClientAgainstServe runs the seed article's client program,
// unmodified but for its addresses, against `rpcfleet serve`, then stops the
// server with SIGINT and expects a clean exit.
func TestSeedClientAgainstServe(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "rpcfleet")
	client := filepath.Join(dir, "seedclient")
	build(t, bin, ".")
	build(t, client, "../../internal/seed/seedclient")

	base := freeBasePort(t, 3)
	srv := exec.Command(bin, "serve", "--count", "3", "--port", strconv.Itoa(base))
	var stderr bytes.Buffer
	srv.Stderr = &stderr
	out, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Process.Kill()

	var addrs []string
	sc := bufio.NewScanner(out)
	for len(addrs) < 3 && sc.Scan() {
		addrs = append(addrs, sc.Text())
	}
	for i, a := range addrs {
		if want := fmt.Sprintf("127.0.0.1:%d", base+i); a != want {
			t.Fatalf("address %d = %q, want %q", i, a, want)
		}
	}
	if len(addrs) != 3 {
		t.Fatalf("serve printed %d addresses, want 3 (stderr: %s)", len(addrs), stderr.String())
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cc := exec.CommandContext(ctx, client, addrs...)
	// On timeout, make the client dump its goroutines before it dies.
	cc.Cancel = func() error { return cc.Process.Signal(syscall.SIGQUIT) }
	cc.WaitDelay = 5 * time.Second
	got, err := cc.CombinedOutput()
	if err != nil {
		srv.Process.Signal(syscall.SIGQUIT)
		time.Sleep(time.Second)
		t.Fatalf("seed client: %v\n%s\nserver stderr:\n%s", err, got, stderr.String())
	}
	for i, a := range addrs {
		want := fmt.Sprintf("Hello, Alice! (server %d at %s)", i, a)
		if !strings.Contains(string(got), want) {
			t.Errorf("seed client output %q lacks %q", got, want)
		}
	}

	if err := srv.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve after SIGINT: %v, want exit 0", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not exit within 10s of SIGINT")
	}
	if stderr.Len() > 0 {
		t.Errorf("serve wrote to stderr: %q", stderr.String())
	}
}

func build(t *testing.T, out, pkg string) {
	t.Helper()
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
}

// freeBasePort finds n consecutive free ports on 127.0.0.1, below the
// ephemeral range (32768 up on Linux) where client connections take theirs.
func freeBasePort(t *testing.T, n int) int {
	t.Helper()
	for try := 0; try < 100; try++ {
		base := 20000 + rand.IntN(12000)
		ok := true
		for p := base; p < base+n && ok; p++ {
			l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
			if err != nil {
				ok = false
				break
			}
			l.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatal("no run of free ports found")
	return 0
}

func TestDemo(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"demo", "--servers", "20", "--timeout", "1s"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit code %d, stderr %q", code, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{
		"SERVER  ADDRESS", "17 ok, 3 failed", "ERROR disk full",
		"ERROR timeout: no reply within 1s", "connection refused", "(killed)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
}

// TestServeControlPort steers a served fleet through its control ports.
func TestServeControlPort(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "rpcfleet")
	build(t, bin, ".")
	srv := exec.Command(bin, "serve", "--count", "2", "--control-port", "0", "--index", "3", "--faults", "error=start")
	out, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		srv.Process.Signal(syscall.SIGTERM)
		if err := srv.Wait(); err != nil {
			t.Errorf("serve after SIGTERM: %v", err)
		}
	}()
	sc := bufio.NewScanner(out)
	var lines [][]string
	for len(lines) < 2 && sc.Scan() {
		lines = append(lines, strings.Fields(sc.Text()))
	}
	if len(lines) != 2 || len(lines[1]) != 2 {
		t.Fatalf("serve printed %q, want two lines of DATA_ADDR CONTROL_ADDR", lines)
	}
	data, ctl := lines[1][0], lines[1][1]

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cc, err := driver.DialControl(ctx, ctl)
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	h, err := cc.Health(ctx)
	if err != nil || h.Index != 4 || h.Plan != "error=start" {
		t.Fatalf("Health() = %+v, %v; want index 4 with the start plan", h, err)
	}
	if err := cc.SetFaults(ctx, faults.MustParse("error=steered")); err != nil {
		t.Fatal(err)
	}
	c, err := rpc.Dial("tcp", data)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var r fleet.Reply
	if err := c.Call("Service.Method", fleet.Args{Name: "x"}, &r); err == nil || err.Error() != "steered" {
		t.Errorf("call after SetFaults through the control port: %v", err)
	}
	calls, err := cc.Journal(ctx)
	if err != nil || len(calls) != 1 || calls[0].Server != 4 || calls[0].Err != "steered" {
		t.Errorf("Journal() = %+v, %v", calls, err)
	}
}

// TestMITWorkerAgainstServeUnix calls `rpcfleet serve --unix DIR` the way
// the MIT 6.824 labs' workers call their coordinator: rpc.DialHTTP on the
// unix socket, Call, Close, once per call. It sees the reply, the injected
// error and the delay; the sockets are gone once serve exits.
func TestMITWorkerAgainstServeUnix(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "rpcfleet")
	build(t, bin, ".")
	socks := t.TempDir()
	srv := exec.Command(bin, "serve", "--count", "2", "--unix", socks,
		"--faults", "error=boom,servers=1;delay=200ms,servers=0")
	var stderr bytes.Buffer
	srv.Stderr = &stderr
	out, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Process.Kill()
	var addrs []string
	sc := bufio.NewScanner(out)
	for len(addrs) < 2 && sc.Scan() {
		addrs = append(addrs, sc.Text())
	}
	if len(addrs) != 2 || addrs[0] != filepath.Join(socks, "server-0.sock") {
		t.Fatalf("serve --unix printed %q, want the two socket paths (stderr: %s)", addrs, stderr.String())
	}
	// The worker's call(), as the lab's skeleton writes it.
	call := func(sock, rpcname string, args, reply any) error {
		c, err := rpc.DialHTTP("unix", sock)
		if err != nil {
			return err
		}
		defer c.Close()
		return c.Call(rpcname, args, reply)
	}
	var r fleet.Reply
	start := time.Now()
	if err := call(addrs[0], "Service.Method", fleet.Args{Name: "worker"}, &r); err != nil {
		t.Errorf("server 0: %v", err)
	}
	if took := time.Since(start); took < 200*time.Millisecond {
		t.Errorf("server 0 answered in %v, want the 200ms delay", took)
	}
	if want := fleet.Greeting("worker", 0, addrs[0]); r.Message != want {
		t.Errorf("server 0: %q, want %q", r.Message, want)
	}
	if err := call(addrs[1], "Service.Method", fleet.Args{Name: "worker"}, &r); err == nil || err.Error() != "boom" {
		t.Errorf("server 1: %v, want the injected error boom", err)
	}
	if err := srv.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := srv.Wait(); err != nil {
		t.Errorf("serve after SIGTERM: %v (stderr: %s)", err, stderr.String())
	}
	for _, a := range addrs {
		if _, err := os.Stat(a); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s after serve exited: %v, want it removed", a, err)
		}
	}
}
