package container

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/rpcfleet/rpcfleet/faults"
)

// TestSetState checks every move between two states: the lifecycle's
// moves are made, staying is allowed, every other move panics naming the
// node and the move.
func TestSetState(t *testing.T) {
	moves := map[[2]state]bool{
		{running, paused}: true, {running, disconnected}: true, {running, down}: true, {running, removed}: true,
		{paused, running}: true, {paused, disconnected}: true, {paused, down}: true, {paused, removed}: true,
		{disconnected, running}: true, {disconnected, paused}: true, {disconnected, downCut}: true, {disconnected, removed}: true,
		{down, running}: true, {down, downCut}: true, {down, paused}: true, {down, removed}: true,
		{downCut, running}: true, {downCut, paused}: true, {downCut, removed}: true,
	}
	for _, s := range []state{running, paused, disconnected, down, downCut, removed} {
		moves[[2]state{s, s}] = true // staying is no move
	}
	all := []state{running, paused, disconnected, down, downCut, removed}
	for _, from := range all {
		for _, to := range all {
			t.Run(fmt.Sprintf("%v to %v", from, to), func(t *testing.T) {
				n := &Node{index: 4, st: from}
				var got any
				func() {
					defer func() { got = recover() }()
					n.mu.Lock()
					defer n.mu.Unlock()
					n.setState(to)
				}()
				if moves[[2]state{from, to}] {
					if got != nil || n.st != to {
						t.Errorf("panic %v, state %v; want the move made", got, n.st)
					}
					return
				}
				want := fmt.Sprintf("container: node 4: illegal move %v -> %v", from, to)
				if got != want || n.st != from {
					t.Errorf("panic %v, state %v; want panic %q and state %v", got, n.st, want, from)
				}
			})
		}
	}
}

// TestRemovedNodeRefuses checks that once the fleet has stopped, the
// node's journal, faults, Kill and Stop say so rather than dial or reach
// Docker.
func TestRemovedNodeRefuses(t *testing.T) {
	n := &Node{cl: &cluster{id: "f1"}, index: 2, addr: "127.0.0.1:1", ctlAddr: "127.0.0.1:1", st: removed}
	ctx := t.Context()
	if _, err := n.Calls(ctx); !errors.Is(err, errRemoved) {
		t.Errorf("Calls: %v, want errRemoved", err)
	}
	if err := n.SetFaults(ctx, faults.MustParse("error=boom")); !errors.Is(err, errRemoved) {
		t.Errorf("SetFaults: %v, want errRemoved", err)
	}
	if err := n.Kill(ctx); !errors.Is(err, errRemoved) {
		t.Errorf("Kill: %v, want errRemoved", err)
	}
	n.grace = time.Second
	if err := n.Kill(ctx); !errors.Is(err, errRemoved) {
		t.Errorf("graceful Kill: %v, want errRemoved", err)
	}
}
