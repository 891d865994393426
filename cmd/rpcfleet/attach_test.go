//go:build !noexperiments

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/fleet/driver"
)

// rpcfleet run --attach: the experiment runs on servers that run already,
// its faults set through their control ports, with the same report; the
// servers are left serving, with no faults.
func TestRunAttach(t *testing.T) {
	ctx := t.Context()
	under, err := fleet.Start(ctx, fleet.WithServers(4), fleet.WithControl(0), fleet.WithControlToken("tok"))
	if err != nil {
		t.Fatal(err)
	}
	defer under.Stop(context.Background())
	file := filepath.Join(t.TempDir(), "attach.yaml")
	if err := os.WriteFile(file, []byte("name: attached\nservers: 4\nrounds: 20\ninflight: 2\nfaults: error=down,servers=0\nstrategies:\n  - name: wait-all\n  - name: quorum\n    quorum: 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("RPCFLEET_CONTROL_TOKEN", "tok")
	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{"run", file, "--attach", strings.Join(under.ControlAddrs(), ","), "--format", "csv"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit code %d; stderr:\n%s", code, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"wait-all,20,0,", "quorum,20,20,"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	calls, err := under.ServerCalls(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) == 0 || calls[0].Fault != "error=down" {
		t.Errorf("server 0's journal: %d calls, first %+v; want the plan's errors", len(calls), calls)
	}
	// Detached: no faults left.
	if p := faultsOf(t, under); p != "" {
		t.Errorf("server 0's plan after the run: %q, want none", p)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", file, "--attach", "dns:nope"}, "want dns:NAME:PORT"},
		{[]string{"run", file, "--backend", "attach"}, "attach: want the servers to attach to"},
		{[]string{"run", file, "--backend", "container", "--attach", "127.0.0.1:1"}, "leave backend out"},
	} {
		stderr.Reset()
		if code := run(ctx, tc.args, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr.String(), tc.want)
		}
	}
}

// faultsOf reads server 0's plan through its control port.
func faultsOf(t *testing.T, f *fleet.Fleet) string {
	t.Helper()
	cc, err := driver.DialControl(t.Context(), f.ControlAddrs()[0], driver.WithToken("tok"))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	h, err := cc.Health(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return h.Plan
}
