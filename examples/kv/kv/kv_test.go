package kv_test

import (
	"context"
	"fmt"
	"net/rpc"
	"testing"

	"github.com/rpcfleet/rpcfleet/examples/kv/kv"
	"github.com/rpcfleet/rpcfleet/fleet"
)

// Every server of a fleet holds a shard of its own.
func TestShardPerServer(t *testing.T) {
	f, err := fleet.Start(t.Context(), fleet.WithServers(2), fleet.WithService("KV", kv.New))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Stop(context.Background())
	c0, err := rpc.Dial("tcp", f.Addrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	defer c0.Close()
	c1, err := rpc.Dial("tcp", f.Addrs()[1])
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()

	var put kv.PutReply
	if err := c1.Call("KV.Put", kv.PutArgs{Key: "k", Value: "v"}, &put); err != nil || put.Shard != 1 {
		t.Fatalf("KV.Put on server 1: %+v, %v; want shard 1", put, err)
	}
	var got kv.GetReply
	if err := c1.Call("KV.Get", kv.GetArgs{Key: "k"}, &got); err != nil || got.Value != "v" {
		t.Errorf("KV.Get on server 1: %q, %v; want v", got.Value, err)
	}
	err = c0.Call("KV.Get", kv.GetArgs{Key: "k"}, &got)
	if want := `kv: shard 0: no key "k"`; err == nil || err.Error() != want {
		t.Errorf("KV.Get on server 0: %v, want %s", err, want)
	}
}

// A Loading shard reads a key never Put as its own load(index, key), and
// one Put as its value.
func TestLoading(t *testing.T) {
	load := func(index int, key string) string { return fmt.Sprintf("%s@%d", key, index) }
	f, err := fleet.Start(t.Context(), fleet.WithServers(2), fleet.WithService("KV", kv.Loading(load)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Stop(context.Background())
	c, err := rpc.Dial("tcp", f.Addrs()[1])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var got kv.GetReply
	if err := c.Call("KV.Get", kv.GetArgs{Key: "k"}, &got); err != nil || got.Value != "k@1" {
		t.Errorf("KV.Get of a key never Put on server 1: %q, %v; want k@1", got.Value, err)
	}
	if err := c.Call("KV.Put", kv.PutArgs{Key: "k", Value: "v"}, new(kv.PutReply)); err != nil {
		t.Fatal(err)
	}
	if err := c.Call("KV.Get", kv.GetArgs{Key: "k"}, &got); err != nil || got.Value != "v" {
		t.Errorf("KV.Get after KV.Put on server 1: %q, %v; want v", got.Value, err)
	}
}
