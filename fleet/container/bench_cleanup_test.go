package container_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/rpcfleet/rpcfleet/fleet/container"
)

// fatalRecorder is a testing.TB whose Fatal ends the calling goroutine,
// as testing's does, but only records the failure.
type fatalRecorder struct {
	testing.TB
	mu     sync.Mutex
	fatals []string
	errs   []string
}

func (r *fatalRecorder) Helper() {}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.mu.Lock()
	r.fatals = append(r.fatals, fmt.Sprintf(format, args...))
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *fatalRecorder) Fatal(args ...any) { r.Fatalf("%s", fmt.Sprint(args...)) }

func (r *fatalRecorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// TestDockerRunCleansUp checks that BenchmarkStart20's sequential half
// removes its network and the containers it started when a `docker run`
// fails midway, and reports docker's own message.
func TestDockerRunCleansUp(t *testing.T) {
	const image = "rpcfleet:dev"
	if err := container.Available(context.Background()); err != nil {
		skipOrFail(t, "no Docker engine: %v", err)
	}
	if out, err := exec.Command("docker", "image", "inspect", image).CombinedOutput(); err != nil {
		skipOrFail(t, "no image %s (make image): %v\n%s", image, err, out)
	}
	left := func() string {
		t.Helper()
		var all []string
		for _, args := range [][]string{{"ps", "-aq"}, {"network", "ls", "-q"}} {
			out, err := exec.Command("docker", append(args, "--filter", "label=rpcfleet.bench")...).CombinedOutput()
			if err != nil {
				t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
			}
			all = append(all, strings.Fields(string(out))...)
		}
		return strings.Join(all, " ")
	}
	if l := left(); l != "" {
		t.Skipf("benchmark objects exist already (another run?): %s", l)
	}

	r := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Server 2's run fails at start, after the container was created:
		// its entrypoint does not exist. That container must go too.
		dockerRun(r, 4, image, func(i int) []string {
			if i == 2 {
				return []string{"--entrypoint", "/no-such-binary"}
			}
			return nil
		})
	}()
	<-done
	if len(r.fatals) != 1 || !strings.Contains(r.fatals[0], "docker run (server 2)") || !strings.Contains(r.fatals[0], "no-such-binary") {
		t.Errorf("fatal errors %q, want one naming server 2's docker run with docker's message", r.fatals)
	}
	if len(r.errs) > 0 {
		t.Errorf("cleanup errors: %q", r.errs)
	}
	if l := left(); l != "" {
		t.Errorf("left behind: %s", l)
		exec.Command("sh", "-c", "docker rm -f $(docker ps -aq --filter label=rpcfleet.bench); docker network rm $(docker network ls -q --filter label=rpcfleet.bench)").Run()
	}
}

// skipOrFail skips a test that needs Docker or the image, or fails it
// with CI=true, where a skipped test would hide a missing install step.
func skipOrFail(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}
