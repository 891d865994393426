package serve_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet/driver"
	"github.com/rpcfleet/rpcfleet/fleet/serve"
)

// health dials the control port at addr and returns its Health.
func health(t *testing.T, addr string) (*driver.ControlClient, driver.Health) {
	t.Helper()
	cc, err := driver.DialControl(t.Context(), addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	h, err := cc.Health(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return cc, h
}

// A control call's Kill ends the process with ExitKilled, for its
// orchestrator to restart it; Health says so beforehand.
func TestKillThroughTheControlPortExits(t *testing.T) {
	r := start(t, t.Context(), 1, []string{"--count", "1", "--control-port", "0"})
	cc, h := health(t, r.lines[0][1])
	if !h.KillExits || h.State != "up" || h.Since.IsZero() {
		t.Fatalf("Health %+v: want KillExits, up, a Since", h)
	}
	cc.Kill(t.Context()) // the reply may not come: the process ends
	if code := r.wait(t); code != serve.ExitKilled {
		t.Fatalf("exit code %d, want ExitKilled (%d); stderr %q", code, serve.ExitKilled, r.stderr.String())
	}
	if !strings.Contains(r.stderr.String(), "server 0 killed through its control port: exiting with 3") {
		t.Errorf("stderr %q: want the kill named", r.stderr.String())
	}
}

// --index defaults to $RPCFLEET_INDEX, else to $RPCFLEET_TASK_SLOT minus
// one, as a StatefulSet's pod and a Swarm task give them.
func TestIndexFromTheEnvironment(t *testing.T) {
	for _, tc := range []struct {
		index, slot string
		args        []string
		want        int
	}{
		{"", "3", nil, 2},
		{"5", "3", nil, 5},
		{"5", "", []string{"--index", "1"}, 1},
	} {
		t.Run(tc.index+"/"+tc.slot, func(t *testing.T) {
			setenv(t, serve.IndexEnv, tc.index)
			setenv(t, serve.SlotEnv, tc.slot)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			r := start(t, ctx, 1, append([]string{"--count", "1", "--control-port", "0"}, tc.args...))
			if _, h := health(t, r.lines[0][1]); h.Index != tc.want {
				t.Errorf("index %d, want %d", h.Index, tc.want)
			}
			cancel()
			r.wait(t)
		})
	}
	for _, tc := range []struct{ name, value, want string }{
		{serve.IndexEnv, "x", `$RPCFLEET_INDEX="x" (the default of --index): not an integer`},
		{serve.SlotEnv, "0", `$RPCFLEET_TASK_SLOT="0" (a Swarm task's slot, from 1`},
	} {
		setenv(t, serve.IndexEnv, "")
		setenv(t, tc.name, tc.value)
		var stdout, stderr bytes.Buffer
		if code := serve.Run(t.Context(), []string{"--count", "1"}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%s=%s: exit %d, stderr %q; want 2 and %q", tc.name, tc.value, code, stderr.String(), tc.want)
		}
		setenv(t, tc.name, "")
	}
}

// setenv sets name for the test, or unsets it for "".
func setenv(t *testing.T, name, value string) {
	t.Setenv(name, value) // restores it when the test ends
	if value == "" {
		os.Unsetenv(name)
	}
}

// --clock-skew shifts the clock the control port reports, and the server
// says it does not share this host's.
func TestClockSkew(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	r := start(t, ctx, 1, []string{"--count", "1", "--control-port", "0", "--clock-skew", "1h"})
	cc, h := health(t, r.lines[0][1])
	if h.ClockID != "" {
		t.Errorf("ClockID %q with a skew, want none", h.ClockID)
	}
	now, err := cc.Now(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if d := now.Sub(time.Now()) - time.Hour; d > time.Second || d < -time.Second {
		t.Errorf("the server's clock reads %v ahead, want 1h", now.Sub(time.Now()))
	}
	cancel()
	r.wait(t)
}
