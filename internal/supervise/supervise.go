// Package supervise runs `rpcfleet serve` processes, one server each, and
// restarts one that exits with serve.ExitKilled after a delay, as an
// orchestrator's restart policy would: the orchestrator the tests of
// package fleet/attach and suites/attach attach a fleet to. A restarted
// process listens on new ephemeral ports, so Controls changes and the
// attach backend must look its server up again.
package supervise

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ExitKilled is serve.ExitKilled (this package does not import fleet).
const ExitKilled = 3

// Build builds the rpcfleet binary into dir and returns its path.
func Build(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "rpcfleet")
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "noexperiments", "-o", bin, "github.com/rpcfleet/rpcfleet/cmd/rpcfleet")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("supervise: go build: %w\n%s", err, out)
	}
	return bin, nil
}

// Group is n supervised server processes. Its methods are safe for
// concurrent use; the caller must call Stop.
type Group struct {
	bin   string
	args  []string
	delay time.Duration

	mu       sync.Mutex
	controls []string // control address of each index's current process, "" while down
	procs    []*exec.Cmd
	restarts []int
	stopped  bool
	wg       sync.WaitGroup
}

// Start runs n processes of `bin serve --count 1 --port 0 --control-port 0
// --index i --fleet-size n`, plus args, and returns once each printed its
// addresses. A process that exits with ExitKilled is started again after
// delay; one that exits otherwise stays down.
func Start(ctx context.Context, bin string, n int, delay time.Duration, args ...string) (*Group, error) {
	g := &Group{bin: bin, args: args, delay: delay, controls: make([]string, n), procs: make([]*exec.Cmd, n), restarts: make([]int, n)}
	for i := range n {
		if err := g.spawn(ctx, i); err != nil {
			g.Stop()
			return nil, err
		}
	}
	return g, nil
}

// spawn starts index i's process and a goroutine that waits for it.
func (g *Group) spawn(ctx context.Context, i int) error {
	args := append([]string{"serve", "--count", "1", "--port", "0", "--control-port", "0",
		"--index", strconv.Itoa(i), "--fleet-size", strconv.Itoa(len(g.controls))}, g.args...)
	cmd := exec.Command(g.bin, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	stderr := &lockedWriter{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("supervise: start server %d: %w", i, err)
	}
	line := make(chan string, 1)
	go func() { // ends when the process's stdout closes
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			line <- sc.Text()
		}
		close(line)
		io.Copy(io.Discard, out)
	}()
	var l string
	select {
	case l = <-line:
	case <-ctx.Done():
	case <-time.After(30 * time.Second):
	}
	f := strings.Fields(l)
	if len(f) != 2 {
		cmd.Process.Kill()
		cmd.Wait()
		return fmt.Errorf("supervise: server %d printed %q, want DATA CONTROL; stderr: %s", i, l, stderr.String())
	}
	g.mu.Lock()
	g.controls[i], g.procs[i] = f[1], cmd
	g.wg.Add(1) // while the caller holds the Group (Start) or a count (watch): never at zero
	if g.stopped {
		cmd.Process.Signal(syscall.SIGTERM) // Stop ran while it started
	}
	g.mu.Unlock()
	go g.watch(i, cmd)
	return nil
}

// watch waits for index i's process and restarts it if it was killed
// through its control port.
func (g *Group) watch(i int, cmd *exec.Cmd) {
	defer g.wg.Done()
	err := cmd.Wait()
	g.mu.Lock()
	g.controls[i] = ""
	stopped := g.stopped
	g.mu.Unlock()
	var ee *exec.ExitError
	if stopped || !errors.As(err, &ee) || ee.ExitCode() != ExitKilled {
		return
	}
	time.Sleep(g.delay)
	g.mu.Lock()
	stopped = g.stopped
	if !stopped {
		g.restarts[i]++
	}
	g.mu.Unlock()
	if !stopped {
		g.spawn(context.Background(), i) // on failure the server stays down
	}
}

// Controls returns the control address of every index's current process,
// "" for one that is down.
func (g *Group) Controls() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.controls...)
}

// Restarts returns how often index i's process was restarted.
func (g *Group) Restarts(i int) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.restarts[i]
}

// Stop sends SIGTERM to every process and returns once all have exited.
func (g *Group) Stop() {
	g.mu.Lock()
	g.stopped = true
	for _, p := range g.procs {
		if p != nil && p.Process != nil {
			p.Process.Signal(syscall.SIGTERM)
		}
	}
	g.mu.Unlock()
	g.wg.Wait()
}

// lockedWriter collects a process's stderr, safe for the copier writing
// it and a reader of String.
type lockedWriter struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
