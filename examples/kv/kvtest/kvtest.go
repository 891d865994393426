// Package kvtest is the wiring the KV example's tests share: the call the
// conformance suite checks (KV.Get on shards that hold a value of their
// own for every key) and the team's fanout.Client adapted to the suite.
// The Ginkgo suite (examples/kv/specs) and the plain go test
// (examples/kv/fanout) run the same specs with it, each in one line:
//
//	var _ = Describe("the team's KV fan-out", func() { suites.ConformanceOf(kvtest.Get, kvtest.NewClient, claims...) })
//	func TestConformance(t *testing.T) { suites.RunOf(t, kvtest.Get, kvtest.NewClient, claims...) }
//
// The README shows the lines below as the whole wiring of a caller of a
// service of your own.
package kvtest

import (
	"context"
	"fmt"
	"time"

	"github.com/rpcfleet/rpcfleet/examples/kv/fanout"
	"github.com/rpcfleet/rpcfleet/examples/kv/kv"
	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

// Value is the value shard holds for key: every key has one, per shard.
func Value(shard int, key string) string { return fmt.Sprintf("%s from shard %d", key, shard) }

// Get is KV.Get of a key named after the fan-out: a reply from the wrong shard, or for another fan-out's key, fails by value.
var Get = suites.Call[kv.GetArgs, kv.GetReply]{Method: "KV.Get", Service: fleet.WithService("KV", kv.Loading(Value)),
	Args:  func(who string) kv.GetArgs { return kv.GetArgs{Key: who} },
	Check: suites.Want(func(who string, shard int) kv.GetReply { return kv.GetReply{Value: Value(shard, who)} })}

// NewClient is the team's client with the suite's per-call timeout, as the suite's fan-out, closed by the suite.
func NewClient(timeout time.Duration) suites.FanOuterOf[kv.GetArgs, kv.GetReply] {
	return Adapt(fanout.New(timeout))
}

// Adapt makes c the suite's fan-out: results by index, Close passed on.
func Adapt(c *fanout.Client) suites.FanOuterOf[kv.GetArgs, kv.GetReply] {
	return suites.Closing(func(ctx context.Context, addrs []string, args kv.GetArgs) ([]suites.ResultOf[kv.GetReply], error) {
		results, err := c.Get(ctx, addrs, args.Key)
		return suites.ResultsOf(addrs, func(i int) (kv.GetReply, error) { return kv.GetReply{Value: results[i].Value}, results[i].Err }), err
	}, c.Close)
}
