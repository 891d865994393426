package container

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// Package is the import path of the binary the image runs.
const Package = "github.com/rpcfleet/rpcfleet/cmd/rpcfleet"

// BuildTags are the build tags of the image's binary: noexperiments leaves
// out `rpcfleet run`, which a container never runs.
const BuildTags = "noexperiments"

// Available reports whether a Docker engine answers; the error says why
// not.
func Available(ctx context.Context) error {
	cli, err := client.New(client.FromEnv)
	if err != nil {
		return err
	}
	defer cli.Close()
	_, err = cli.Ping(ctx, client.PingOptions{})
	return err
}

// Build builds the image tag from the Dockerfile at dockerfile, whose
// build context holds only the rpcfleet binary: `go build` of Package
// with BuildTags, statically linked (CGO_ENABLED=0), run in the current directory, which
// must lie in a module that can build Package. Nothing is pulled. Images
// that an earlier Build of the same tag left dangling are removed.
func Build(ctx context.Context, dockerfile, tag string) error {
	df, err := os.ReadFile(dockerfile)
	if err != nil {
		return fmt.Errorf("fleet/container: build: %w", err)
	}
	dir, err := os.MkdirTemp("", "rpcfleet-image-")
	if err != nil {
		return fmt.Errorf("fleet/container: build: %w", err)
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "rpcfleet")
	gb := exec.CommandContext(ctx, "go", "build", "-trimpath", "-tags", BuildTags, "-o", bin, Package)
	gb.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := gb.CombinedOutput(); err != nil {
		return fmt.Errorf("fleet/container: go build %s: %w\n%s", Package, err, out)
	}
	exe, err := os.ReadFile(bin)
	if err != nil {
		return fmt.Errorf("fleet/container: build: %w", err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []struct {
		name string
		mode int64
		data []byte
	}{{"Dockerfile", 0o644, df}, {"rpcfleet", 0o755, exe}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data))}); err != nil {
			return err
		}
		if _, err := tw.Write(f.data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}

	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return fmt.Errorf("fleet/container: docker: %w", err)
	}
	defer cli.Close()
	res, err := cli.ImageBuild(ctx, &buf, client.ImageBuildOptions{Tags: []string{tag}, Remove: true, ForceRemove: true})
	if err != nil {
		return fmt.Errorf("fleet/container: build %s: %w", tag, err)
	}
	defer res.Body.Close()
	// The build reports failures in its output stream, not its status.
	dec := json.NewDecoder(res.Body)
	for {
		var msg struct {
			Error string `json:"error"`
		}
		if err := dec.Decode(&msg); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return fmt.Errorf("fleet/container: build %s: %w", tag, err)
		}
		if msg.Error != "" {
			return fmt.Errorf("fleet/container: build %s: %s", tag, msg.Error)
		}
	}
	_, err = cli.ImagePrune(ctx, client.ImagePruneOptions{
		Filters: make(client.Filters).Add("dangling", "true").Add("label", "rpcfleet.image=true"),
	})
	if err != nil {
		return fmt.Errorf("fleet/container: prune: %w", err)
	}
	return nil
}

// Sweep removes the containers and networks the backend created in
// processes that have exited without stopping their fleets (a test binary
// killed on timeout, say). Fleets of live processes are left alone, so it
// is safe while other test processes run: a process counts as live if its
// PID exists on this host and, on Linux, started when the one that
// created the object did (so a reused PID does not keep leftovers alive).
// Objects created on another host sharing the engine (another machine,
// or a container with a hostname or a PID namespace of its own) are left
// alone too: only a Sweep there can tell whether their process lives.
// Call it when a suite starts.
func Sweep(ctx context.Context) error {
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return fmt.Errorf("fleet/container: docker: %w", err)
	}
	defer cli.Close()
	host := hostID()
	f := make(client.Filters).Add("label", LabelManaged+"=true")
	ctrs, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return fmt.Errorf("fleet/container: sweep: %w", err)
	}
	var errs []error
	for _, c := range ctrs.Items {
		if !orphaned(c.Labels, host, lookup) {
			continue
		}
		if _, err := cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil && !cerrdefs.IsNotFound(err) {
			errs = append(errs, err)
		}
	}
	nets, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		return fmt.Errorf("fleet/container: sweep: %w", err)
	}
	for _, n := range nets.Items {
		if !orphaned(n.Labels, host, lookup) {
			continue
		}
		if _, err := cli.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{}); err != nil && !cerrdefs.IsNotFound(err) {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("fleet/container: sweep: %w", err)
	}
	return nil
}

func isNotFound(err error) bool { return cerrdefs.IsNotFound(err) }
func isConflict(err error) bool { return cerrdefs.IsConflict(err) }

// Owned returns the IDs of the containers and networks that backends in
// this process created and that still exist: empty once every fleet has
// stopped. They are told apart by a label with a random value chosen once
// per process, not by PID.
func Owned(ctx context.Context) ([]string, error) {
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return nil, fmt.Errorf("fleet/container: docker: %w", err)
	}
	defer cli.Close()
	f := make(client.Filters).Add("label", LabelManaged+"=true", labelSession+"="+owner()[labelSession])
	ctrs, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return nil, fmt.Errorf("fleet/container: list: %w", err)
	}
	nets, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		return nil, fmt.Errorf("fleet/container: list: %w", err)
	}
	var ids []string
	for _, c := range ctrs.Items {
		ids = append(ids, "container "+c.ID)
	}
	for _, n := range nets.Items {
		ids = append(ids, "network "+n.ID)
	}
	return ids, nil
}
