// Package swarm deploys a fleet of rpcfleet servers on a Docker Swarm as a
// stack (docker/stack.yaml, or a stack file of your own image with the
// same ports and variables), finds the ports its tasks publish, and
// removes it; package fleet/attach steers the servers:
//
//	leave, err := swarm.Init(ctx) // a one-node swarm, unless the engine is in one
//	defer leave(ctx)              // leaves it, as it found it
//	st, err := swarm.Deploy(ctx, "rpcfleet-it", swarm.Config{File: "docker/stack.yaml", Replicas: 20, Token: token})
//	defer st.Remove(ctx)
//	f, err := fleet.Start(ctx, fleet.WithServers(20), fleet.WithControlToken(token),
//		fleet.WithFleetID(st.FleetID()), fleet.WithBackend(attach.New(st.Source())))
//
// It runs the docker command line for what only it does (docker stack
// deploy and rm, docker swarm init and leave) and the Docker API for the
// tasks' ports. Nothing is pulled: the stack is deployed with
// --resolve-image never, so its image must be on the node (make image).
package swarm

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/client"

	"github.com/rpcfleet/rpcfleet/fleet/attach"
)

// The ports of a server inside its task, as docker/stack.yaml serves them.
const (
	DataPort    = 7000
	ControlPort = 7001
)

// Config is what Deploy passes to the stack file, through the variables
// docker/stack.yaml reads.
type Config struct {
	File         string        // the stack file (required)
	Replicas     int           // servers: RPCFLEET_REPLICAS (default 3)
	Token        string        // the control token: RPCFLEET_CONTROL_TOKEN (required)
	FleetID      string        // RPCFLEET_FLEET_ID (default: the stack's name)
	Image        string        // RPCFLEET_IMAGE (default rpcfleet:dev)
	Seed         uint64        // RPCFLEET_SEED (default 1)
	RestartDelay time.Duration // RPCFLEET_RESTART_DELAY, the restart policy's delay (default 1s)
}

// Stack is a deployed stack. Its methods are safe for concurrent use; the
// caller must Remove it.
type Stack struct {
	name    string
	fleetID string
}

// Deploy runs `docker stack deploy --resolve-image never` of cfg.File as
// stack name, and returns once every replica's task runs with its ports
// published, or with ctx's error (the attach backend then waits for each
// server's Health). On error it removes what it deployed.
func Deploy(ctx context.Context, name string, cfg Config) (*Stack, error) {
	switch {
	case cfg.File == "":
		return nil, errors.New("fleet/swarm: Config.File: the stack file is required (docker/stack.yaml)")
	case cfg.Token == "":
		return nil, errors.New("fleet/swarm: Config.Token: the control token is required (a task's control port listens beyond loopback)")
	case cfg.Replicas < 0:
		return nil, fmt.Errorf("fleet/swarm: Config.Replicas %d: must not be negative", cfg.Replicas)
	}
	if cfg.Replicas == 0 {
		cfg.Replicas = 3
	}
	if cfg.FleetID == "" {
		cfg.FleetID = name
	}
	if cfg.Image == "" {
		cfg.Image = "rpcfleet:dev"
	}
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	if cfg.RestartDelay == 0 {
		cfg.RestartDelay = time.Second
	}
	env := []string{
		"RPCFLEET_REPLICAS=" + strconv.Itoa(cfg.Replicas), "RPCFLEET_CONTROL_TOKEN=" + cfg.Token,
		"RPCFLEET_FLEET_ID=" + cfg.FleetID, "RPCFLEET_IMAGE=" + cfg.Image,
		"RPCFLEET_SEED=" + strconv.FormatUint(cfg.Seed, 10), "RPCFLEET_RESTART_DELAY=" + cfg.RestartDelay.String(),
	}
	st := &Stack{name: name, fleetID: cfg.FleetID}
	if _, err := docker(ctx, env, "stack", "deploy", "--resolve-image", "never", "-c", cfg.File, name); err != nil {
		st.Remove(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("fleet/swarm: deploy %s: %w", name, err)
	}
	for {
		eps, err := st.Source().Lookup(ctx)
		if err == nil && len(eps) == cfg.Replicas {
			return st, nil
		}
		select {
		case <-ctx.Done():
			st.Remove(context.WithoutCancel(ctx))
			return nil, fmt.Errorf("fleet/swarm: deploy %s: %d of %d tasks running: %w (last: %v)", name, len(eps), cfg.Replicas, ctx.Err(), err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// Attached returns the Stack of a stack deployed already as name, with
// the default fleet id (its name), for another process to find it.
func Attached(name string) *Stack { return &Stack{name: name, fleetID: name} }

// Name returns the stack's name.
func (s *Stack) Name() string { return s.name }

// FleetID returns the fleet id its servers report.
func (s *Stack) FleetID() string { return s.fleetID }

// Source finds the stack's running tasks and the ports they publish on
// this host, as 127.0.0.1 addresses: the servers for package
// fleet/attach. A task that a kill ended is replaced by a new one, on new
// ports, that the next Lookup finds.
func (s *Stack) Source() attach.Source {
	return attach.SourceFunc(func(ctx context.Context) ([]attach.Endpoint, error) {
		cli, err := client.New(client.FromEnv)
		if err != nil {
			return nil, err
		}
		defer cli.Close()
		f := make(client.Filters).Add("label", "com.docker.stack.namespace="+s.name).Add("status", "running")
		list, err := cli.ContainerList(ctx, client.ContainerListOptions{Filters: f})
		if err != nil {
			return nil, fmt.Errorf("fleet/swarm: list the tasks of %s: %w", s.name, err)
		}
		var eps []attach.Endpoint
		for _, c := range list.Items {
			var ep attach.Endpoint
			for _, p := range c.Ports {
				if p.PublicPort == 0 || p.Type != "tcp" || p.IP.Is6() {
					continue
				}
				addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(int(p.PublicPort)))
				switch p.PrivatePort {
				case DataPort:
					ep.Data = addr
				case ControlPort:
					ep.Control = addr
				}
			}
			if ep.Control != "" && ep.Data != "" {
				eps = append(eps, ep)
			}
		}
		return eps, nil
	})
}

// Remove runs `docker stack rm` and returns once the stack's containers
// and network are gone, or with ctx's error. The engine may refuse to
// remove the network while tasks still shut down: Remove runs `docker
// stack rm` again until it is gone.
func (s *Stack) Remove(ctx context.Context) error {
	_, rmErr := docker(ctx, nil, "stack", "rm", s.name)
	for {
		ctrs, err := docker(ctx, nil, "ps", "-aq", "--filter", "label=com.docker.stack.namespace="+s.name)
		nets, err2 := docker(ctx, nil, "network", "ls", "-q", "--filter", "label=com.docker.stack.namespace="+s.name)
		if err == nil && err2 == nil && ctrs == "" && nets == "" {
			return nil
		}
		if err == nil && ctrs == "" && nets != "" {
			_, rmErr = docker(ctx, nil, "stack", "rm", s.name) // the network, once its tasks are gone
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("fleet/swarm: remove %s: containers %q, networks %q left: %w (last docker stack rm: %v)", s.name, ctrs, nets, ctx.Err(), rmErr)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// Init makes the engine a one-node swarm (docker swarm init
// --advertise-addr 127.0.0.1), unless it is in a swarm already, and
// returns the function that undoes what it did: docker swarm leave
// --force, and the removal of the docker_gwbridge network that the init
// created. On an engine that was in a swarm it does nothing, and so does
// the function.
func Init(ctx context.Context) (leave func(context.Context) error, err error) {
	state, err := docker(ctx, nil, "info", "--format", "{{.Swarm.LocalNodeState}}")
	if err != nil {
		return nil, fmt.Errorf("fleet/swarm: %w", err)
	}
	if state != "inactive" {
		return func(context.Context) error { return nil }, nil
	}
	hadBridge := false
	if out, err := docker(ctx, nil, "network", "ls", "-q", "--filter", "name=^docker_gwbridge$"); err == nil && out != "" {
		hadBridge = true
	}
	if _, err := docker(ctx, nil, "swarm", "init", "--advertise-addr", "127.0.0.1"); err != nil {
		return nil, fmt.Errorf("fleet/swarm: %w", err)
	}
	return func(ctx context.Context) error {
		if _, err := docker(ctx, nil, "swarm", "leave", "--force"); err != nil {
			return fmt.Errorf("fleet/swarm: %w", err)
		}
		if hadBridge {
			return nil
		}
		if _, err := docker(ctx, nil, "network", "rm", "docker_gwbridge"); err != nil && !strings.Contains(err.Error(), "not found") {
			return fmt.Errorf("fleet/swarm: %w", err)
		}
		return nil
	}, nil
}

// Available reports why the docker command or its engine cannot run a
// swarm here, or nil.
func Available(ctx context.Context) error {
	if _, err := exec.LookPath("docker"); err != nil {
		return fmt.Errorf("fleet/swarm: the docker command: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := docker(ctx, nil, "info", "--format", "{{.Swarm.LocalNodeState}}"); err != nil {
		return fmt.Errorf("fleet/swarm: %w", err)
	}
	return nil
}

// docker runs the docker command with args, env added to this process's
// environment, and returns its trimmed output; the error holds it.
func docker(ctx context.Context, env []string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	s := strings.TrimSpace(string(out))
	if err != nil {
		return s, fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, s)
	}
	return s, nil
}
