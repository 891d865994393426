// Package kv is an example of a user's own net/rpc service: a key-value
// store of which every server holds a shard of its own. Its server main,
// examples/kv/server, serves it with rpcfleet's faults, journal and
// control plane around it, on a command line or in a container.
package kv

import (
	"fmt"
	"sync"
)

// KV is one server's shard. Its methods are safe for concurrent use.
type KV struct {
	index int
	load  func(index int, key string) string // nil: a missing key is an error
	mu    sync.Mutex
	data  map[string]string
}

// GetArgs are KV.Get's arguments.
type GetArgs struct{ Key string }

// GetReply is KV.Get's reply.
type GetReply struct{ Value string }

// PutArgs are KV.Put's arguments.
type PutArgs struct{ Key, Value string }

// PutReply is KV.Put's reply: the index of the server that stored it.
type PutReply struct{ Shard int }

// New returns server index's empty shard, in the shape fleet.WithService
// takes.
func New(index int) any { return &KV{index: index, data: map[string]string{}} }

// Loading returns, in the shape fleet.WithService takes, a constructor of
// shards that read a key never Put as load(index, key), as a cache in
// front of a store does: every key has a value, its shard's own. load
// must be safe for concurrent use.
func Loading(load func(index int, key string) string) func(index int) any {
	return func(index int) any { return &KV{index: index, load: load, data: map[string]string{}} }
}

// Get replies with the value of a.Key in this shard, or fails if the
// shard has none (and loads none).
func (kv *KV) Get(a GetArgs, r *GetReply) error {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	v, ok := kv.data[a.Key]
	if !ok && kv.load != nil {
		v, ok = kv.load(kv.index, a.Key), true
	}
	if !ok {
		return fmt.Errorf("kv: shard %d: no key %q", kv.index, a.Key)
	}
	r.Value = v
	return nil
}

// Put sets a.Key to a.Value in this shard.
func (kv *KV) Put(a PutArgs, r *PutReply) error {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	kv.data[a.Key] = a.Value
	r.Shard = kv.index
	return nil
}
