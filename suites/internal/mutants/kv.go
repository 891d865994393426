package mutants

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/rpc"
	"sync"
	"time"

	"github.com/rpcfleet/rpcfleet/examples/kv/kv"
	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// Get is the call of the KV mutants: KV.Get of the key who, on fleets of
// examples/kv shards that hold a value of their own for every key.
func Get() suites.Call[kv.GetArgs, kv.GetReply] {
	return suites.Call[kv.GetArgs, kv.GetReply]{
		Method:  "KV.Get",
		Service: fleet.WithService("KV", kv.Loading(shardValue)),
		Args:    func(who string) kv.GetArgs { return kv.GetArgs{Key: who} },
		Check: suites.Want(func(who string, server int) kv.GetReply {
			return kv.GetReply{Value: shardValue(server, who)}
		}),
	}
}

// shardValue is the value shard index holds for a key never Put.
func shardValue(index int, key string) string { return fmt.Sprintf("%s from shard %d", key, index) }

// getResult is an outcome of a KV.Get fan-out.
type getResult = suites.ResultOf[kv.GetReply]

// getFunc is a KV.Get fan-out, its calls bounded by timeout.
type getFunc func(ctx context.Context, timeout time.Duration, addrs []string, args kv.GetArgs) ([]getResult, error)

// gets adapts fn with suites.FanOutFuncOf, for the timeout the suite asks
// for.
func gets(fn getFunc) func(time.Duration) suites.FanOuterOf[kv.GetArgs, kv.GetReply] {
	return func(timeout time.Duration) suites.FanOuterOf[kv.GetArgs, kv.GetReply] {
		return suites.FanOutFuncOf[kv.GetArgs, kv.GetReply](func(ctx context.Context, addrs []string, args kv.GetArgs) ([]getResult, error) {
			return fn(ctx, timeout, addrs, args)
		})
	}
}

// getAll is the KV control: a goroutine per address, a WaitGroup, a
// connection of its own per call, outcome i by index, errors joined.
func getAll(ctx context.Context, timeout time.Duration, addrs []string, args kv.GetArgs) ([]getResult, error) {
	out := make([]getResult, len(addrs))
	var wg sync.WaitGroup
	for i, addr := range addrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			reply, err := get(ctx, timeout, addr, args, false)
			out[i] = getResult{Addr: addr, Reply: reply, Err: err, Latency: time.Since(start)}
		}()
	}
	wg.Wait()
	return out, joinGetErrors(out)
}

// joinGetErrors joins the errors of the failed outcomes, each prefixed
// with its address.
func joinGetErrors(out []getResult) error {
	var errs []error
	for _, o := range out {
		if o.Err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", o.Addr, o.Err))
		}
	}
	return errors.Join(errs...)
}

// get makes one KV.Get call on a connection of its own, bounded by
// timeout and ctx, and closes the connection. With zeroOnBadReply (a
// mutant's bug), a call that ends in an error other than the server's
// own error reply (a reply that does not decode, a dropped connection)
// counts as an empty value.
func get(ctx context.Context, timeout time.Duration, addr string, args kv.GetArgs, zeroOnBadReply bool) (kv.GetReply, error) {
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
			if zeroOnBadReply && !errors.As(call.Error, new(rpc.ServerError)) {
				return kv.GetReply{}, nil // BUG: "no value" rather than an error
			}
			return kv.GetReply{}, call.Error
		}
		return reply, nil
	case <-ctx.Done():
		return kv.GetReply{}, ctx.Err()
	}
}
