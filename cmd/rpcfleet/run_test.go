//go:build !noexperiments

package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestRunUsageErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("name: x\nservers: 10\nrounds: 5\nstrategies:\n  - name: q\n    quorum: 11\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good.yaml")
	if err := os.WriteFile(good, []byte("name: x\nservers: 3\nrounds: 5\nstrategies:\n  - name: a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	unreachable := filepath.Join(dir, "unreachable.yaml")
	if err := os.WriteFile(unreachable, []byte("name: x\nservers: 3\nrounds: 5\nfaults: [error=a, error=b]\nstrategies:\n  - name: a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"impossible value", []string{"run", bad}, bad + ":6: quorum: want 1..10 (the fleet size), or 0 for none, got 11"},
		{"missing file", []string{"run", filepath.Join(dir, "nope.yaml")}, "no such file"},
		{"no file", []string{"run"}, "run takes one scenario file"},
		{"bad format", []string{"run", good, "--format", "xml"}, `--format "xml": want one of table, json, csv`},
		{"bad flag value", []string{"run", good, "--inflight", "0"}, "inflight: want at least 1, got 0"},
		{"unknown strategy", []string{"run", good, "--strategies", "zz"}, `no strategy "zz"`},
		{"bad plot file", []string{"run", good, "--plot", "cdf.txt"}, "--plot cdf.txt: want a .png or .svg file"},
		{"bad faults flag", []string{"run", good, "--faults", "drop,p=2"}, `"2": p must be a probability`},
		{"unreachable rule in the faults flag", []string{"run", good, "--faults", "error=a;error=b"}, `"error=b": rule 2 can never apply: rule 1 (error=a)`},
		{"unreachable rule in the file", []string{"run", unreachable}, unreachable + `:4: faults: invalid plan "error=a;error=b"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), tt.args, &stdout, &stderr); code != 2 {
				t.Errorf("exit code %d, want 2 (stderr %q)", code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tt.want)
			}
		})
	}
}

func TestRunWritesEveryFormat(t *testing.T) {
	sc := filepath.Join(t.TempDir(), "s.yaml")
	if err := os.WriteFile(sc, []byte("name: small\nservers: 5\nrounds: 20\nseed: 7\nfaults: error=x,servers=0\nstrategies:\n  - name: wait-all\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for format, want := range map[string]string{
		"table": "seed 7", "json": `"success_rate": 0`, "csv": "strategy,rounds,succeeded",
	} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), []string{"run", sc, "--format", format}, &stdout, &stderr); code != 0 {
			t.Fatalf("%s: exit %d: %s", format, code, stderr.String())
		}
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("%s output lacks %q:\n%s", format, want, stdout.String())
		}
		if !strings.Contains(stderr.String(), "seed 7") {
			t.Errorf("the seed is not printed on stderr: %q", stderr.String())
		}
	}
}

// What can be checked before a run is: a plot that cannot be written is a
// usage error at once, not a failure after the experiment.
func TestRunChecksThePlotFirst(t *testing.T) {
	sc := filepath.Join(t.TempDir(), "long.yaml")
	if err := os.WriteFile(sc, []byte("name: long\nservers: 3\nduration: 1h\nstrategies:\n  - name: a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ plot, want string }{
		{"/nonexistent/x.png", "--plot /nonexistent/x.png: no directory /nonexistent"},
		{t.TempDir(), "want a .png or .svg file"},
		{filepath.Join(t.TempDir(), "dir.png") + "/x.svg", "no directory"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(t.Context(), []string{"run", sc, "--plot", tc.plot}, &stdout, &stderr); code != 2 {
			t.Errorf("--plot %s: exit %d, want 2 (stderr %q)", tc.plot, code, stderr.String())
		}
		if !strings.Contains(stderr.String(), tc.want) || stdout.Len() > 0 {
			t.Errorf("--plot %s: stderr %q, stdout %q; want %q and no report", tc.plot, stderr.String(), stdout.String(), tc.want)
		}
	}
}

// Into a pipe, progress is one line per strategy.
func TestRunProgressInAPipe(t *testing.T) {
	sc := filepath.Join(t.TempDir(), "s.yaml")
	if err := os.WriteFile(sc, []byte("name: s\nservers: 3\nrounds: 50\nstrategies:\n  - name: a\n  - name: b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run(t.Context(), []string{"run", sc}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	if len(lines) != 3 || lines[1] != "running a" || lines[2] != "running b" {
		t.Errorf("stderr:\n%s\nwant the heading and one line per strategy", stderr.String())
	}
}

// SIGTERM ends a run promptly, and the figures so far are printed.
func TestRunStopsOnSIGTERM(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "rpcfleet")
	build(t, bin, ".")
	sc := filepath.Join(dir, "long.yaml")
	if err := os.WriteFile(sc, []byte("name: long\nservers: 50\nduration: 1h\ninflight: 200\nstrategies:\n  - name: a\n  - name: b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "run", sc)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := bufio.NewScanner(stderr)
	for lines.Scan() && lines.Text() != "running a" {
	}
	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var rest []string
	for lines.Scan() {
		rest = append(rest, lines.Text())
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v, want 0", err)
		}
	case <-time.After(30 * time.Second): // a hang guard, not a timing assertion
		t.Fatal("rpcfleet run did not exit within 30s of SIGTERM")
	}
	t.Logf("exited %v after SIGTERM", time.Since(sent))
	if !slices.Contains(rest, "interrupted: printing the figures so far") || !strings.Contains(stdout.String(), "strategy") {
		t.Errorf("stderr after SIGTERM %q, stdout %q: want the figures so far", rest, stdout.String())
	}
}

// A run on the container backend prints no testcontainers-go banner, here
// before its "image not found" error: stderr is the heading and the
// error.
func TestRunContainerErrorIsQuiet(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "rpcfleet")
	build(t, bin, ".")
	sc := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(sc, []byte("name: c\nservers: 1\nrounds: 1\nbackend: container\nimage: rpcfleet-missing:none\nstrategies:\n  - name: a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "run", sc).CombinedOutput()
	if err == nil {
		t.Fatalf("a run of a missing image succeeded:\n%s", out)
	}
	if strings.Contains(string(out), "Connected to docker") || strings.Count(string(out), "\n") > 2 {
		t.Errorf("output:\n%s\nwant the heading and one error line, no banner", out)
	}
}
