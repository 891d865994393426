// Command server serves the example KV service with rpcfleet around it:
// the flags of `rpcfleet serve` (server --count 3 --faults
// 'error=kv down,method=KV.Get,servers=1'), and an image of it built by
// container.BuildPackage runs under container.New.
package main

import (
	"github.com/rpcfleet/rpcfleet/examples/kv/kv"
	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/fleet/serve"
)

func main() { serve.Main(fleet.WithService("KV", kv.New)) }
