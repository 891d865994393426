package container_test

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/fleet/container"
)

// BenchmarkStart20 starts a fleet of 20 containers through the backend
// (its network, then the containers in parallel, each one health-checked
// through its control port) and, for comparison, the same fleet one
// container after another with the plain docker CLI: `docker network
// create`, then 20 `docker run -d` (same image, command and loopback
// ports), which wait for nothing beyond the start. Both times include the
// fleet's network, as a user bringing up a fleet pays for it either way.
// Run it once:
//
//	go test -run '^$' -bench Start20 -benchtime=1x ./fleet/container
//
// It reports parallel-s, sequential-s, their ratio (target <= 0.5), the
// start time per container of each (the whole time over 20), and
// sequential-net-ms, the network's share of sequential-s.
func BenchmarkStart20(b *testing.B) {
	const n, image = 20, "rpcfleet:dev"
	ctx := context.Background()
	if err := container.Available(ctx); err != nil {
		b.Skipf("no Docker engine: %v", err)
	}
	b.Setenv(container.RyukEnv, "true")
	if err := container.Build(ctx, "../../docker/Dockerfile", image); err != nil {
		b.Fatal(err)
	}
	var par, seq, netTime time.Duration
	for b.Loop() {
		t0 := time.Now()
		f, err := fleet.Start(ctx, fleet.WithServers(n), fleet.WithBackend(container.New(image)))
		if err != nil {
			b.Fatal(err)
		}
		par += time.Since(t0)
		if err := f.Stop(ctx); err != nil {
			b.Fatal(err)
		}

		labels := []string{"--label", container.LabelManaged + "=true", "--label", "rpcfleet.pid=" + strconv.Itoa(os.Getpid())}
		network := "rpcfleet-bench-" + strconv.Itoa(os.Getpid())
		ids := make([]string, 0, n)
		t0 = time.Now()
		if out, err := exec.Command("docker", append(append([]string{"network", "create"}, labels...), network)...).CombinedOutput(); err != nil {
			b.Fatalf("docker network create: %v\n%s", err, out)
		}
		netTime += time.Since(t0)
		for i := range n {
			out, err := exec.Command("docker", append(append([]string{"run", "-d"}, labels...),
				"--network", network, "-p", "127.0.0.1::7000", "-p", "127.0.0.1::7001", image,
				"--count", "1", "--host", "0.0.0.0", "--port", "7000", "--control-port", "7001", "--index", strconv.Itoa(i))...).Output()
			if err != nil {
				b.Fatalf("docker run: %v", err)
			}
			ids = append(ids, strings.TrimSpace(string(out)))
		}
		seq += time.Since(t0)
		if out, err := exec.Command("docker", append([]string{"rm", "-f"}, ids...)...).CombinedOutput(); err != nil {
			b.Fatalf("docker rm: %v\n%s", err, out)
		}
		if out, err := exec.Command("docker", "network", "rm", network).CombinedOutput(); err != nil {
			b.Fatalf("docker network rm: %v\n%s", err, out)
		}
	}
	runs := float64(b.N)
	b.ReportMetric(par.Seconds()/runs, "parallel-s")
	b.ReportMetric(seq.Seconds()/runs, "sequential-s")
	b.ReportMetric(float64(par)/float64(seq), "ratio")
	b.ReportMetric(float64(par.Milliseconds())/runs/n, "parallel-ms/container")
	b.ReportMetric(float64(seq.Milliseconds())/runs/n, "sequential-ms/container")
	b.ReportMetric(float64(netTime.Milliseconds())/runs, "sequential-net-ms")
}
