package attach_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/fleet/attach"
	"github.com/rpcfleet/rpcfleet/internal/supervise"
)

// binDir holds the rpcfleet binary, built once by the first test that
// runs it; TestMain removes it.
var binDir string

var bin = sync.OnceValues(func() (string, error) { return supervise.Build(context.Background(), binDir) })

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "rpcfleet-attach-test")
	if err != nil {
		panic(err)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// processes runs n rpcfleet serve processes under a supervisor that
// restarts a killed one after 300ms, and returns them as a Source.
func processes(t *testing.T, ctx context.Context, n int, args ...string) attach.Source {
	t.Helper()
	b, err := bin()
	if err != nil {
		t.Fatal(err)
	}
	g, err := supervise.Start(ctx, b, n, 300*time.Millisecond, append([]string{"--fleet-id", "procs"}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Stop)
	return attach.SourceFunc(func(context.Context) ([]attach.Endpoint, error) {
		var eps []attach.Endpoint
		for _, c := range g.Controls() {
			if c != "" {
				eps = append(eps, attach.Endpoint{Control: c})
			}
		}
		return eps, nil
	})
}

// Kill ends the server's process, which exits with serve.ExitKilled; the
// supervisor (a restart policy) starts it again on new ports; Restart
// finds it there and gives it the fleet's plan, and the journal keeps the
// killed process's calls.
func TestKillEndsTheProcessAndRestartFindsItsSuccessor(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	src := processes(t, ctx, 3)
	f := attached(t, src, 3, fleet.WithControlToken(""))
	for i, a := range f.Addrs() {
		if _, err := call(a); err != nil {
			t.Fatalf("server %d: %v", i, err)
		}
	}
	if err := f.SetServerFaults(ctx, 1, faults.MustParse("error=kept")); err != nil {
		t.Fatal(err)
	}
	before := f.Addrs()
	if err := f.Kill(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := call(before[1]); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("killed server's address: err = %v, want ECONNREFUSED", err)
	}
	if err := f.Restart(ctx, 1); err != nil {
		t.Fatal(err)
	}
	after := f.Addrs()
	if after[1] == before[1] || !slices.Equal(slices.Delete(slices.Clone(after), 1, 2), slices.Delete(slices.Clone(before), 1, 2)) {
		t.Fatalf("addresses %v before, %v after: want only server 1's new", before, after)
	}
	if _, err := call(after[1]); err == nil || err.Error() != "kept" {
		t.Fatalf("restarted server: err = %v, want the plan set before the kill (kept)", err)
	}
	calls, err := f.ServerCalls(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 2 || calls[0].Outcome != fleet.OK || calls[1].Fault != "error=kept" || calls[0].Addr != before[1] || calls[1].Addr != after[1] {
		t.Fatalf("server 1's journal: %+v, want the killed process's call, then the new one's", calls)
	}
}
