//go:build !noexperiments

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
