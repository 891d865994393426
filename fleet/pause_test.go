package fleet_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/rpc"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
)

// A paused in-process server completes dials but reads and answers
// nothing until Unpause, when what waited is answered.
func TestPauseHoldsEverythingUntilUnpause(t *testing.T) {
	ctx := t.Context()
	f, err := fleet.Start(ctx, fleet.WithServers(2))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Stop(context.Background())
	addr := f.Addrs()[0]
	warm, err := rpc.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer warm.Close()

	if err := f.Pause(ctx, 0); err != nil {
		t.Fatal(err)
	}
	onWarm := goCall(warm)
	cold, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatalf("a dial to a paused server: %v, want it to complete (the kernel finishes handshakes)", err)
	}
	coldClient := rpc.NewClient(cold)
	defer coldClient.Close()
	onCold := goCall(coldClient)
	noReply(t, onWarm, 300*time.Millisecond)
	noReply(t, onCold, 0)
	other, err := rpc.Dial("tcp", f.Addrs()[1])
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	replied(t, goCall(other)) // server 1 is not paused

	if err := f.Unpause(ctx, 0); err != nil {
		t.Fatal(err)
	}
	replied(t, onWarm)
	replied(t, onCold)
}

// The lifecycle refuses moves that make no sense, naming the state.
func TestLifecycleRefusesIllegalMoves(t *testing.T) {
	ctx := t.Context()
	f, err := fleet.Start(ctx, fleet.WithServers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Stop(context.Background())
	steps := []struct {
		name string
		op   func(context.Context, int) error
		want string // "" for success, else a part of the error
	}{
		{"unpause a running server", f.Unpause, "it is up, not paused"},
		{"reconnect a running server", f.Reconnect, "it is up, not disconnected"},
		{"pause", f.Pause, ""},
		{"pause again", f.Pause, "it is paused, not up"},
		{"restart a paused server", f.Restart, "it is paused"},
		{"disconnect a paused server", f.Disconnect, "it is paused, not up"},
		{"unpause", f.Unpause, ""},
		{"disconnect", f.Disconnect, ""},
		{"restart a disconnected server", f.Restart, "it is disconnected"},
		{"pause a disconnected server", f.Pause, "it is disconnected, not up"},
		{"reconnect", f.Reconnect, ""},
		{"kill", f.Kill, ""},
		{"pause a killed server", f.Pause, "it is down, not up"},
		{"restart", f.Restart, ""},
	}
	for _, s := range steps {
		err := s.op(ctx, 0)
		switch {
		case s.want == "" && err != nil:
			t.Fatalf("%s: %v", s.name, err)
		case s.want != "" && (err == nil || !strings.Contains(err.Error(), s.want)):
			t.Fatalf("%s: %v, want an error saying %q", s.name, err, s.want)
		}
	}
	if _, err := fanOutOnce(f.Addrs()[0]); err != nil {
		t.Errorf("after the moves the server does not serve: %v", err)
	}
}

// A disconnected server refuses dials and holds its port, so no other
// listener takes its address; Reconnect serves on it again.
func TestDisconnectRefusesAndHoldsThePort(t *testing.T) {
	ctx := t.Context()
	f, err := fleet.Start(ctx, fleet.WithServers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Stop(context.Background())
	addr := f.Addrs()[0]
	open, err := rpc.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	if err := f.Disconnect(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if err := goCall(open); waitErr(t, err) == nil {
		t.Error("a call on a connection open before the disconnect succeeded")
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial to a disconnected server: %v, want connection refused", err)
	}
	if ln, err := net.Listen("tcp", addr); !errors.Is(err, syscall.EADDRINUSE) {
		if ln != nil {
			ln.Close()
		}
		t.Errorf("listen on a disconnected server's address: %v, want address in use", err)
	}
	if err := f.Reconnect(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := fanOutOnce(addr); err != nil {
		t.Errorf("after Reconnect: %v", err)
	}
}

// Stop and Kill end a pause at once, and every goroutine with it.
func TestStopAndKillEndAPause(t *testing.T) {
	for _, end := range []string{"kill", "stop"} {
		t.Run(end, func(t *testing.T) {
			ctx := t.Context()
			f, err := fleet.Start(ctx, fleet.WithServers(1))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Stop(context.Background())
			c, err := rpc.Dial("tcp", f.Addrs()[0])
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := f.Pause(ctx, 0); err != nil {
				t.Fatal(err)
			}
			call := goCall(c)
			noReply(t, call, 100*time.Millisecond)
			sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			if end == "kill" {
				err = f.Kill(sctx, 0)
			} else {
				err = f.Stop(sctx)
			}
			if err != nil {
				t.Fatalf("%s of a paused server: %v", end, err)
			}
			if waitErr(t, call) == nil {
				t.Errorf("the call held by the pause succeeded after %s", end)
			}
		})
	}
}

// waitErr waits up to 5s for call to end and returns its error; a call
// that does not end fails the test.
func waitErr(t *testing.T, call *rpc.Call) error {
	t.Helper()
	select {
	case <-call.Done:
		return call.Error
	case <-time.After(5 * time.Second):
		t.Fatal("the call did not end within 5s")
		return nil
	}
}

// fanOutOnce makes one call of Service.Method to addr.
func fanOutOnce(addr string) (fleet.Reply, error) {
	c, err := rpc.Dial("tcp", addr)
	if err != nil {
		return fleet.Reply{}, err
	}
	defer c.Close()
	var r fleet.Reply
	return r, c.Call("Service.Method", fleet.Args{Name: "x"}, &r)
}

// A blackhole set while the server is paused neither hangs SetFaults nor
// what follows: Unpause, then the next SetFaults, return at once.
func TestBlackholeWhilePaused(t *testing.T) {
	ctx := t.Context()
	f, err := fleet.Start(ctx, fleet.WithServers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Stop(context.Background())
	done := make(chan error, 1)
	go func() {
		if err := f.Pause(ctx, 0); err != nil {
			done <- err
			return
		}
		if err := f.SetFaults(ctx, faults.MustParse("blackhole")); err != nil {
			done <- err
			return
		}
		if err := f.Unpause(ctx, 0); err != nil {
			done <- err
			return
		}
		done <- f.ClearFaults(ctx)
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("pause, blackhole, unpause, clear did not return within 5s")
	}
	if _, err := fanOutOnce(f.Addrs()[0]); err != nil {
		t.Errorf("after the blackhole is cleared: %v", err)
	}
}

// A pause and a blackhole hold a JSON-RPC request that the server's JSON
// decoder has already buffered, as they hold gob's: two requests in one
// write, one call in flight at a time (WithMaxInFlight), the first delayed
// so that the second waits in the decoder's buffer when the pause or
// blackhole begins. The first call's end frees its slot during the
// blackhole (its reply is written) or after the pause (its reply waits
// too); the second is not received until the end of either.
func TestHoldsBufferedJSONRequests(t *testing.T) {
	for _, tc := range []struct {
		name       string
		begin, end func(context.Context, *fleet.Fleet) error
	}{
		{
			name:  "pause",
			begin: func(ctx context.Context, f *fleet.Fleet) error { return f.Pause(ctx, 0) },
			end:   func(ctx context.Context, f *fleet.Fleet) error { return f.Unpause(ctx, 0) },
		},
		{
			name: "blackhole",
			begin: func(ctx context.Context, f *fleet.Fleet) error {
				return f.SetFaults(ctx, faults.MustParse("blackhole"))
			},
			end: func(ctx context.Context, f *fleet.Fleet) error { return f.ClearFaults(ctx) },
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			f, err := fleet.Start(ctx, fleet.WithServers(1), fleet.WithMaxInFlight(1),
				fleet.WithFaults(faults.MustParse("delay=300ms,first=1")))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Stop(context.Background())
			c, err := net.Dial("tcp", f.Addrs()[0])
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			two := `{"method":"Service.Method","params":[{"Name":"a"}],"id":0}` + "\n" +
				`{"method":"Service.Method","params":[{"Name":"b"}],"id":1}` + "\n"
			if _, err := c.Write([]byte(two)); err != nil {
				t.Fatal(err)
			}
			received := func() int {
				calls, err := f.ServerCalls(ctx, 0)
				if err != nil {
					t.Fatal(err)
				}
				return len(calls)
			}
			for deadline := time.Now().Add(5 * time.Second); received() == 0; time.Sleep(5 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("the first request was never received")
				}
			}
			if err := tc.begin(ctx, f); err != nil {
				t.Fatal(err)
			}
			time.Sleep(600 * time.Millisecond) // the first call's delay is over
			if n := received(); n != 1 {
				t.Fatalf("%d requests received during the %s, want 1: the buffered second one was read", n, tc.name)
			}
			if err := tc.end(ctx, f); err != nil {
				t.Fatal(err)
			}
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			dec := json.NewDecoder(c)
			for range 2 {
				var reply struct {
					ID     int
					Result struct{ Message string }
				}
				if err := dec.Decode(&reply); err != nil {
					t.Fatalf("reading the replies: %v", err)
				}
				if want := "Hello, " + []string{"a", "b"}[reply.ID]; !strings.HasPrefix(reply.Result.Message, want) {
					t.Errorf("reply %+v, want a message starting %q", reply, want)
				}
			}
		})
	}
}
