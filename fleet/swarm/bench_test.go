package swarm_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/fleet/attach"
	"github.com/rpcfleet/rpcfleet/fleet/container"
	"github.com/rpcfleet/rpcfleet/fleet/swarm"
)

// BenchmarkDeployAttach times docker stack deploy of docker/stack.yaml
// with 20 and 100 replicas until every task runs, then attaching a fleet
// to all of them (every server answering Health, reseeded and emptied):
// what a suite pays before its first spec (BENCHMARKS.md; make
// bench-swarm). It needs a Docker engine, and makes it a one-node swarm
// for the run if it is in none, leaving it as it found it. It builds an
// image of this tree under a tag of its own (rpcfleet:dev is shared with
// other suites) and removes it.
func BenchmarkDeployAttach(b *testing.B) {
	ctx := context.Background()
	if err := swarm.Available(ctx); err != nil {
		b.Skip(err)
	}
	b.Setenv(container.RyukEnv, "true")
	image := fmt.Sprintf("rpcfleet-swarm-bench:%d", os.Getpid())
	if err := container.Build(ctx, "../../docker/Dockerfile", image); err != nil {
		b.Fatal(err)
	}
	defer exec.Command("docker", "image", "rm", image).Run()
	leave, err := swarm.Init(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		if err := leave(ctx); err != nil {
			b.Error(err)
		}
	}()
	for _, n := range []int{20, 100} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for k := 0; b.Loop(); k++ {
				name := fmt.Sprintf("rpcfleet-bench-%d-%d-%d", os.Getpid(), n, k)
				dctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
				st, err := swarm.Deploy(dctx, name, swarm.Config{File: "../../docker/stack.yaml", Replicas: n, Token: "bench", Image: image})
				if err != nil {
					cancel()
					b.Fatal(err)
				}
				f, err := fleet.Start(dctx, fleet.WithServers(n), fleet.WithControlToken("bench"), fleet.WithFleetID(st.FleetID()),
					fleet.WithBackend(attach.New(st.Source(), attach.WithPoll(250*time.Millisecond))))
				b.StopTimer()
				if err == nil {
					err = f.Stop(dctx)
				}
				if rerr := st.Remove(ctx); rerr != nil {
					b.Error(rerr)
				}
				cancel()
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		})
	}
}
