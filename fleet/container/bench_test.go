package container_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/fleet/container"
	"github.com/rpcfleet/rpcfleet/fleet/driver"
)

// BenchmarkStart20 starts a fleet of 20 containers through the backend
// (its network, then the containers in parallel, each one health-checked
// through its control port) and, for comparison, the same fleet one
// container after another with the plain docker CLI: `docker network
// create`, then 20 `docker run -d` (same image, command and loopback
// ports), which wait for nothing beyond the start. Both times include the
// fleet's network, as a user bringing up a fleet pays for it either way.
// Everything either half creates is removed, also when it fails midway.
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
		par += startFleet(b, ctx, n, image)
		s, nt := dockerRun(b, n, image, nil)
		seq += s
		netTime += nt
	}
	runs := float64(b.N)
	b.ReportMetric(par.Seconds()/runs, "parallel-s")
	b.ReportMetric(seq.Seconds()/runs, "sequential-s")
	b.ReportMetric(float64(par)/float64(seq), "ratio")
	b.ReportMetric(float64(par.Milliseconds())/runs/n, "parallel-ms/container")
	b.ReportMetric(float64(seq.Milliseconds())/runs/n, "sequential-ms/container")
	b.ReportMetric(float64(netTime.Milliseconds())/runs, "sequential-net-ms")
}

// startFleet times fleet.Start of n containers; the fleet is stopped
// before it returns, also when tb.Fatal ends it.
func startFleet(tb testing.TB, ctx context.Context, n int, image string) time.Duration {
	t0 := time.Now()
	f, err := fleet.Start(ctx, fleet.WithServers(n), fleet.WithBackend(container.New(image)))
	if err != nil {
		tb.Fatal(err) // Start removed what it created
	}
	d := time.Since(t0)
	if err := f.Stop(ctx); err != nil {
		tb.Fatal(err)
	}
	return d
}

// dockerRun times `docker network create` and n `docker run -d`, one
// after another, with extra(i) (if not nil) added to run i's flags. It
// removes every container and the network before it returns, also when
// a docker command fails and tb.Fatal ends it: all carry a label of
// their own, so that even a container a failed `docker run` created is
// found.
func dockerRun(tb testing.TB, n int, image string, extra func(i int) []string) (total, network time.Duration) {
	id := make([]byte, 6)
	rand.Read(id)
	run := "rpcfleet-bench-" + hex.EncodeToString(id)
	label := "rpcfleet.bench=" + run
	labels := []string{"--label", container.LabelManaged + "=true", "--label", label}
	docker := func(args ...string) (string, error) {
		out, err := exec.Command("docker", args...).CombinedOutput() // docker's stderr too
		return strings.TrimSpace(string(out)), err
	}
	defer func() {
		ids, err := docker("ps", "-aq", "--filter", "label="+label)
		if err != nil {
			tb.Errorf("docker ps: %v\n%s", err, ids)
		} else if ids != "" {
			if out, err := docker(append([]string{"rm", "-f"}, strings.Fields(ids)...)...); err != nil {
				tb.Errorf("docker rm: %v\n%s", err, out)
			}
		}
		if nets, err := docker("network", "ls", "-q", "--filter", "label="+label); err != nil {
			tb.Errorf("docker network ls: %v\n%s", err, nets)
		} else if nets != "" {
			if out, err := docker(append([]string{"network", "rm"}, strings.Fields(nets)...)...); err != nil {
				tb.Errorf("docker network rm: %v\n%s", err, out)
			}
		}
	}()

	t0 := time.Now()
	if out, err := docker(append(append([]string{"network", "create"}, labels...), run)...); err != nil {
		tb.Fatalf("docker network create: %v\n%s", err, out)
	}
	network = time.Since(t0)
	for i := range n {
		args := append(append([]string{"run", "-d"}, labels...),
			"--network", run, "-p", "127.0.0.1::7000", "-p", "127.0.0.1::7001")
		if extra != nil {
			args = append(args, extra(i)...)
		}
		args = append(args, image,
			"--count", "1", "--host", "0.0.0.0", "--port", "7000", "--control-port", "7001", "--index", strconv.Itoa(i))
		if out, err := docker(args...); err != nil {
			tb.Fatalf("docker run (server %d): %v\n%s", i, err, out)
		}
	}
	return time.Since(t0), network
}

// BenchmarkPool starts and stops a fleet of 5 servers, as a spec does,
// on new containers (container.New) and on the kept containers of a
// pool (container.NewPool, warmed by one fleet before the timer starts),
// in turns. Between start and stop, untimed, each fleet has server 0
// killed, so that the pool's stop has a container to start again, as
// after a spec that kills one. Run it a few times:
//
//	go test -run '^$' -bench Pool -benchtime=5x ./fleet/container
//
// It reports new-ms and pool-ms, the time to start and stop one fleet on
// each, and their ratio pool/new.
func BenchmarkPool(b *testing.B) {
	const n, image = 5, "rpcfleet:dev"
	ctx := context.Background()
	if err := container.Available(ctx); err != nil {
		b.Skipf("no Docker engine: %v", err)
	}
	b.Setenv(container.RyukEnv, "true")
	if err := container.Build(ctx, "../../docker/Dockerfile", image); err != nil {
		b.Fatal(err)
	}
	pool := container.NewPool(container.New(image))
	defer func() {
		if err := pool.Close(ctx); err != nil {
			b.Error(err)
		}
	}()
	startStop(b, ctx, n, pool)
	var fresh, reused time.Duration
	for b.Loop() {
		fresh += startStop(b, ctx, n, container.New(image))
		reused += startStop(b, ctx, n, pool)
	}
	runs := float64(b.N)
	b.ReportMetric(float64(fresh.Milliseconds())/runs, "new-ms")
	b.ReportMetric(float64(reused.Milliseconds())/runs, "pool-ms")
	b.ReportMetric(float64(reused)/float64(fresh), "ratio")
}

// startStop times fleet.Start and Fleet.Stop of n servers on backend,
// with server 0 killed in between, untimed.
func startStop(tb testing.TB, ctx context.Context, n int, backend driver.Backend) time.Duration {
	t0 := time.Now()
	f, err := fleet.Start(ctx, fleet.WithServers(n), fleet.WithBackend(backend))
	if err != nil {
		tb.Fatal(err)
	}
	d := time.Since(t0)
	if err := f.Kill(ctx, 0); err != nil {
		f.Stop(ctx)
		tb.Fatal(err)
	}
	t0 = time.Now()
	if err := f.Stop(ctx); err != nil {
		tb.Fatal(err)
	}
	return d + time.Since(t0)
}
