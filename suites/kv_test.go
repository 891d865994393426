package suites_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/rpc"
	"os"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/rpcfleet/rpcfleet/examples/kv/kv"
	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// The conformance suite on a call of a user's own service: a KV.Get
// fan-out on fleets serving examples/kv's shards, each of which holds a
// value of its own for every key. The README's "any call" example,
// verbatim.
var _ = Describe("my KV fan-out", Label("kv"), func() {
	suites.ConformanceOf(suites.Call[kv.GetArgs, kv.GetReply]{
		Method:  "KV.Get",
		Service: fleet.WithService("KV", kv.Loading(shardValue)), // every key has a value per shard
		Args:    func(who string) kv.GetArgs { return kv.GetArgs{Key: who} },
		Check: suites.Want(func(who string, server int) kv.GetReply {
			return kv.GetReply{Value: shardValue(server, who)}
		}),
	}, func(timeout time.Duration) suites.FanOuterOf[kv.GetArgs, kv.GetReply] {
		return suites.FanOutFuncOf[kv.GetArgs, kv.GetReply](func(ctx context.Context, addrs []string, args kv.GetArgs) ([]suites.ResultOf[kv.GetReply], error) {
			return getAll(ctx, timeout, addrs, args) // your code
		})
	}, suites.TimesOut(), suites.HonoursCancel(), suites.KeepsInputOrder(), suites.AggregatesErrors())
})

// shardValue is the value shard index holds for a key never Put.
func shardValue(index int, key string) string { return fmt.Sprintf("%s from shard %d", key, index) }

// getAll fans KV.Get out to addrs: a goroutine per address, a WaitGroup,
// a connection of its own per call, bounded by timeout and ctx; outcome i
// is addrs[i]'s; the error joins every failed call's, naming its address.
func getAll(ctx context.Context, timeout time.Duration, addrs []string, args kv.GetArgs) ([]suites.ResultOf[kv.GetReply], error) {
	out := make([]suites.ResultOf[kv.GetReply], len(addrs))
	var wg sync.WaitGroup
	for i, addr := range addrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			reply, err := get(ctx, timeout, addr, args)
			out[i] = suites.ResultOf[kv.GetReply]{Addr: addr, Reply: reply, Err: err, Latency: time.Since(start)}
		}()
	}
	wg.Wait()
	var errs []error
	for _, o := range out {
		if o.Err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", o.Addr, o.Err))
		}
	}
	return out, errors.Join(errs...)
}

// get makes one KV.Get call on a connection of its own, bounded by
// timeout and ctx, and closes the connection.
func get(ctx context.Context, timeout time.Duration, addr string, args kv.GetArgs) (kv.GetReply, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return kv.GetReply{}, dialError(ctx, err)
	}
	client := rpc.NewClient(conn)
	defer client.Close()
	var reply kv.GetReply
	call := client.Go("KV.Get", args, &reply, make(chan *rpc.Call, 1))
	select {
	case <-call.Done:
		if call.Error != nil {
			return kv.GetReply{}, call.Error
		}
		return reply, nil
	case <-ctx.Done():
		return kv.GetReply{}, ctx.Err()
	}
}

// dialError is err, also ctx's error if the dial timed out at ctx's
// deadline: the dial's own timer may fire just before ctx's does, and
// then it reports an i/o timeout rather than ctx's error.
func dialError(ctx context.Context, err error) error {
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) && errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
	}
	return err
}
