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
	"os"
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
//
// Each index has one goroutine for as long as the Group runs, which
// starts its process, waits for it and starts it again: a restart starts
// no goroutine, so a goroutine-leak check around it sees none new (nor
// does os/exec start one: the processes' output goes to files).
type Group struct {
	bin    string
	args   []string
	delay  time.Duration
	stderr *os.File // every process's stderr

	mu       sync.Mutex
	controls []string // control address of each index's current process, "" while down
	procs    []*os.Process
	restarts []int
	stopped  bool
	stop     chan struct{} // closed by Stop
	wg       sync.WaitGroup
}

// Start runs n processes of `bin serve --count 1 --port 0 --control-port 0
// --index i --fleet-size n`, plus args, and returns once each printed its
// addresses. A process that exits with ExitKilled is started again after
// delay; one that exits otherwise stays down.
func Start(ctx context.Context, bin string, n int, delay time.Duration, args ...string) (*Group, error) {
	stderr, err := os.CreateTemp("", "rpcfleet-supervise-*.log")
	if err != nil {
		return nil, err
	}
	os.Remove(stderr.Name()) // open, it stays readable until Stop closes it
	g := &Group{bin: bin, args: args, delay: delay, stderr: stderr, controls: make([]string, n), procs: make([]*os.Process, n),
		restarts: make([]int, n), stop: make(chan struct{})}
	ready := make([]chan error, n)
	for i := range n {
		ready[i] = make(chan error, 1)
		g.wg.Add(1)
		go g.supervise(i, ready[i])
	}
	var errs []error
	for _, r := range ready {
		select {
		case err := <-r:
			errs = append(errs, err)
		case <-ctx.Done():
			errs = append(errs, ctx.Err())
		}
	}
	if err := errors.Join(errs...); err != nil {
		g.Stop()
		return nil, fmt.Errorf("supervise: %w\nstderr:\n%s", err, g.Stderr())
	}
	return g, nil
}

// supervise runs index i's processes until Stop: it reports the first
// start on ready, and starts a process again after delay when it exits
// with ExitKilled.
func (g *Group) supervise(i int, ready chan<- error) {
	defer g.wg.Done()
	for first := true; ; first = false {
		p, err := g.spawn(i)
		if first {
			ready <- err
		}
		if err != nil {
			return
		}
		st, _ := p.Wait()
		g.mu.Lock()
		g.controls[i], g.procs[i] = "", nil
		g.mu.Unlock()
		if st == nil || st.ExitCode() != ExitKilled {
			return
		}
		select {
		case <-g.stop:
			return
		case <-time.After(g.delay):
		}
		g.mu.Lock()
		g.restarts[i]++
		g.mu.Unlock()
	}
}

// spawn starts index i's process and returns once it printed its
// addresses.
func (g *Group) spawn(i int) (*os.Process, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	args := append([]string{"serve", "--count", "1", "--port", "0", "--control-port", "0",
		"--index", strconv.Itoa(i), "--fleet-size", strconv.Itoa(len(g.controls))}, g.args...)
	cmd := exec.Command(g.bin, args...)
	cmd.Stdout, cmd.Stderr = w, g.stderr
	g.mu.Lock()
	if g.stopped {
		g.mu.Unlock()
		w.Close()
		return nil, errors.New("stopped")
	}
	err = cmd.Start()
	if err == nil {
		g.procs[i] = cmd.Process
	}
	g.mu.Unlock()
	w.Close()
	if err != nil {
		return nil, fmt.Errorf("start server %d: %w", i, err)
	}
	r.SetReadDeadline(time.Now().Add(30 * time.Second))
	line, err := bufio.NewReader(r).ReadString('\n')
	f := strings.Fields(line)
	if len(f) != 2 {
		cmd.Process.Kill()
		cmd.Process.Wait()
		return nil, fmt.Errorf("server %d printed %q (%v), want DATA CONTROL", i, line, err)
	}
	g.mu.Lock()
	g.controls[i] = f[1]
	g.mu.Unlock()
	return cmd.Process, nil
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

// Stderr returns what the processes wrote to stderr so far.
func (g *Group) Stderr() string {
	b, _ := os.ReadFile("/proc/self/fd/" + strconv.Itoa(int(g.stderr.Fd())))
	return string(b)
}

// Stop sends SIGTERM to every process and returns once all have exited.
func (g *Group) Stop() {
	g.mu.Lock()
	if !g.stopped {
		g.stopped = true
		close(g.stop)
	}
	for _, p := range g.procs {
		if p != nil {
			p.Signal(syscall.SIGTERM)
		}
	}
	g.mu.Unlock()
	g.wg.Wait()
	g.stderr.Close()
}
