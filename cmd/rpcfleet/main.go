// Command rpcfleet serves fleets of net/rpc servers with injected faults
// and runs fault-injection experiments against them.
//
//	rpcfleet serve --count 3 --port 8080 --faults 'delay=50ms,jitter=10ms'   serve until SIGINT or SIGTERM
//	rpcfleet run scenarios/tail-at-scale.yaml                              run an experiment, print its report
//	rpcfleet demo                                                          one fan-out with a few faults, server by server
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
