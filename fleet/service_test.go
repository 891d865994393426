package fleet_test

import (
	"context"
	"errors"
	"fmt"
	"net/rpc"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/rpcfleet/rpcfleet/faults"
	"github.com/rpcfleet/rpcfleet/fleet"
)

// KV is a user's own service: a key-value shard per server.
type KV struct {
	index int
	mu    sync.Mutex
	data  map[string]string
}

type (
	GetArgs  struct{ Key string }
	GetReply struct{ Value string }
	PutArgs  struct{ Key, Value string }
)

func newKV(index int) any { return &KV{index: index, data: map[string]string{}} }

func (kv *KV) Get(a GetArgs, r *GetReply) error {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	v, ok := kv.data[a.Key]
	if !ok {
		return fmt.Errorf("shard %d: no key %q", kv.index, a.Key)
	}
	r.Value = v
	return nil
}

func (kv *KV) Put(a PutArgs, _ *struct{}) error {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	kv.data[a.Key] = a.Value
	return nil
}

// A user's receiver runs on every server, one instance each (its own
// state), beside the default Service; faults target its methods by name
// and the journal names them.
func TestWithService(t *testing.T) {
	ctx := t.Context()
	f, err := fleet.Start(ctx, fleet.WithServers(2), fleet.WithService("KV", newKV),
		fleet.WithFaults(faults.MustParse("error=kv down,method=KV.Get,servers=1")))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Stop(context.Background())
	for i, addr := range f.Addrs() {
		c, err := rpc.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Call("KV.Put", PutArgs{"k", fmt.Sprint("v", i)}, &struct{}{}); err != nil {
			t.Fatalf("server %d: KV.Put: %v", i, err)
		}
		var r GetReply
		err = c.Call("KV.Get", GetArgs{"k"}, &r)
		switch {
		case i == 0 && (err != nil || r.Value != "v0"):
			t.Errorf("server 0: KV.Get = %q, %v; want its own shard's v0", r.Value, err)
		case i == 1 && (err == nil || err.Error() != "kv down"):
			t.Errorf("server 1: KV.Get = %q, %v; want the injected error", r.Value, err)
		}
		var m fleet.Reply
		if err := c.Call("Service.Method", fleet.Args{Name: "x"}, &m); err != nil {
			t.Errorf("server %d: the default Service beside KV: %v", i, err)
		}
	}
	calls, err := f.ServerCalls(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	var methods []string
	for _, c := range calls {
		methods = append(methods, c.Method+":"+c.Outcome.String())
	}
	if got := strings.Join(methods, " "); got != "KV.Put:ok KV.Get:error Service.Method:ok" {
		t.Errorf("server 1's journal: %s", got)
	}
}

// Registration errors fail Start, naming the service.
func TestWithServiceErrors(t *testing.T) {
	type nothing struct{}
	for _, tc := range []struct {
		name string
		opts []fleet.Option
		want string
	}{
		{"no methods", []fleet.Option{fleet.WithService("Nothing", func(int) any { return &nothing{} })}, `WithService("Nothing")`},
		{"twice", []fleet.Option{fleet.WithService("KV", newKV), fleet.WithService("KV", newKV)}, `WithService("KV"): rpc: service already defined`},
		{"no constructor", []fleet.Option{fleet.WithService("KV", nil)}, `WithService("KV"): needs a name and a constructor`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := fleet.Start(t.Context(), tc.opts...)
			if err == nil {
				f.Stop(context.Background())
				t.Fatal("Start succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Start: %v, want it to say %s", err, tc.want)
			}
		})
	}
}

// A service named "Service" replaces the default one.
func TestWithServiceReplacesTheDefault(t *testing.T) {
	f, err := fleet.Start(t.Context(), fleet.WithServers(1), fleet.WithService("Service", newKV))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Stop(context.Background())
	c, err := rpc.Dial("tcp", f.Addrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var r fleet.Reply
	err = c.Call("Service.Method", fleet.Args{Name: "x"}, &r)
	var se rpc.ServerError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "can't find method") {
		t.Errorf("Service.Method with the default replaced: %v, want rpc's can't find method", err)
	}
	if err := c.Call("Service.Put", PutArgs{"k", "v"}, &struct{}{}); err != nil {
		t.Errorf("Service.Put: %v", err)
	}
}

// On unix sockets, in the MIT 6.824 worker's shape (rpc.DialHTTP("unix",
// sock), Call, Close) and every other client, the same faults apply; the
// sockets are gone after Kill and after Stop, and back after Restart.
func TestUnixSockets(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()
	f, err := fleet.Start(ctx, fleet.WithServers(2), fleet.WithUnixSockets(dir),
		fleet.WithFaults(faults.MustParse("error=boom,servers=1")))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Stop(context.Background())
	addrs := f.Addrs()
	for i, a := range addrs {
		if want := fmt.Sprintf("%s/server-%d.sock", dir, i); a != want {
			t.Fatalf("Addrs()[%d] = %q, want %q", i, a, want)
		}
	}
	// The 6.824 worker's call.
	call := func(sock string) (fleet.Reply, error) {
		c, err := rpc.DialHTTP("unix", sock)
		if err != nil {
			return fleet.Reply{}, err
		}
		defer c.Close()
		var r fleet.Reply
		return r, c.Call("Service.Method", fleet.Args{Name: "mr"}, &r)
	}
	if r, err := call(addrs[0]); err != nil || r.Message != fleet.Greeting("mr", 0, addrs[0]) {
		t.Errorf("server 0: %q, %v", r.Message, err)
	}
	if _, err := call(addrs[1]); err == nil || err.Error() != "boom" {
		t.Errorf("server 1: %v, want the injected error boom", err)
	}
	if err := f.Kill(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := call(addrs[0]); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("a killed server's socket: %v, want connection refused", err)
	}
	if err := f.Restart(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := call(addrs[0]); err != nil {
		t.Errorf("after Restart: %v", err)
	}
	if err := f.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if _, err := os.Stat(a); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s after Stop: %v, want it removed", a, err)
		}
	}
}
