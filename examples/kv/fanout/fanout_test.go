package fanout_test

import (
	"context"
	"errors"
	"net/rpc"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rpcfleet/rpcfleet/examples/kv/fanout"
	"github.com/rpcfleet/rpcfleet/examples/kv/kvtest"
	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
)

// Get returns the answers by index and names the failed server in its
// error; a second fan-out reuses the connections.
func TestGet(t *testing.T) {
	f, err := fleet.Start(t.Context(), fleet.WithServers(3), kvtest.Get.Service,
		fleet.WithFaults(faults.MustParse("error=kv down,method=KV.Get,servers=1")))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Stop(context.Background())
	c := fanout.New(5 * time.Second)
	defer c.Close()
	for round := range 2 {
		results, err := c.Get(t.Context(), f.Addrs(), "k")
		var values []string
		for _, r := range results {
			values = append(values, r.Value)
		}
		if want := []string{kvtest.Value(0, "k"), "", kvtest.Value(2, "k")}; !slices.Equal(values, want) {
			t.Errorf("round %d: values %q, want %q", round, values, want)
		}
		if results[1].Err == nil || results[0].Err != nil || results[2].Err != nil {
			t.Errorf("round %d: errors %v, %v, %v; want server 1's only", round, results[0].Err, results[1].Err, results[2].Err)
		}
		var se rpc.ServerError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), f.Addrs()[1]+": kv down") {
			t.Errorf("round %d: err %v, want server 1's error reply, named by its address", round, err)
		}
	}
	calls, err := f.Calls(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 6 {
		t.Errorf("%d calls journalled, want 6", len(calls))
	}
	for i := range 3 {
		if n, err := f.OpenConns(t.Context(), i); err != nil || n != 1 {
			t.Errorf("server %d: %d open connections (%v), want the one kept", i, n, err)
		}
	}
}
