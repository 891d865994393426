// Command rpcfleet serves fleets of net/rpc servers with injected faults.
//
//	rpcfleet serve --count 3 --port 8080 --faults 'delay=50ms,jitter=10ms'
//	rpcfleet version
//
// Exit codes: 0 success, 1 failure, 2 usage error.
package main

import (
	"context"
	"os"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}
