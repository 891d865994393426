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
// that an earlier Build of the same tag left dangling are removed. Builds
// of different tags may run at once.
func Build(ctx context.Context, dockerfile, tag string) error {
	df, err := os.ReadFile(dockerfile)
	if err != nil {
		return fmt.Errorf("fleet/container: build: %w", err)
	}
	return buildImage(ctx, Package, BuildTags, "rpcfleet", df, tag)
}

// BuildPackage builds the image tag of the main package pkg (an import
// path, or a directory such as ./cmd/server), as Build builds rpcfleet's:
// `go build` statically linked (CGO_ENABLED=0), run in the current
// directory, which must lie in a module that can build pkg; FROM scratch,
// run as the unprivileged user 65532, data and control ports 7000 and
// 7001 exposed; nothing is pulled. The image's entrypoint is the binary
// with no subcommand: a main that calls fleet/serve's Main, so that New
// runs the image as it runs rpcfleet's. Images that an earlier build of
// the same tag left dangling are removed.
func BuildPackage(ctx context.Context, pkg, tag string) error {
	return buildImage(ctx, pkg, "", "server", fmt.Appendf(nil, packageDockerfile, pkg), tag)
}

// packageDockerfile is BuildPackage's Dockerfile; %q is the package.
const packageDockerfile = `FROM scratch
LABEL org.opencontainers.image.title=%q rpcfleet.image="true"
COPY server /server
USER 65532:65532
EXPOSE 7000 7001
ENTRYPOINT ["/server"]
CMD ["--count", "1", "--host", "0.0.0.0", "--port", "7000", "--control-port", "7001"]
`

// buildImage builds pkg with tags into the binary bin, and the image tag
// from dockerfile with a context of that binary alone; then it removes
// the dangling images that earlier builds left.
func buildImage(ctx context.Context, pkg, tags, bin string, dockerfile []byte, tag string) error {
	dir, err := os.MkdirTemp("", "rpcfleet-image-")
	if err != nil {
		return fmt.Errorf("fleet/container: build: %w", err)
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, bin)
	gb := exec.CommandContext(ctx, "go", "build", "-trimpath", "-tags", tags, "-o", out, pkg)
	gb.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := gb.CombinedOutput(); err != nil {
		return fmt.Errorf("fleet/container: go build %s: %w\n%s", pkg, err, msg)
	}
	exe, err := os.ReadFile(out)
	if err != nil {
		return fmt.Errorf("fleet/container: build: %w", err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []struct {
		name string
		mode int64
		data []byte
	}{{"Dockerfile", 0o644, dockerfile}, {bin, 0o755, exe}} {
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

	cli, err := dockerClient(ctx)
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
	// The engine runs one prune at a time and refuses another meanwhile
	// (a build of another image at once): what that one leaves dangling,
	// the next build removes.
	if err != nil && !cerrdefs.IsConflict(err) {
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
	cli, err := dockerClient(ctx)
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
// stopped and every Pool has closed. They are told apart by a label with a random value chosen once
// per process, not by PID.
func Owned(ctx context.Context) ([]string, error) {
	cli, err := dockerClient(ctx)
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
