package container

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	dcontainer "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// TestStopRemovesUntracked checks that Stop also removes what an
// interrupted Start leaves: a network and a container the engine created
// but the cluster never learned of, found by the fleet's label.
func TestStopRemovesUntracked(t *testing.T) {
	const image = "rpcfleet:dev"
	ctx := context.Background()
	if err := Available(ctx); err != nil {
		skipOrFail(t, "no Docker engine: %v", err)
	}
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.ImageInspect(ctx, image); err != nil {
		cli.Close()
		skipOrFail(t, "no image %s (make image): %v", image, err)
	}
	id := make([]byte, 6)
	rand.Read(id)
	fleetID := "test-" + hex.EncodeToString(id)
	labels := ownerLabels()
	labels[labelFleet] = fleetID
	byLabel := make(client.Filters).Add("label", labelFleet+"="+fleetID)
	left := func() (ctrs, nets int) {
		t.Helper()
		lc, err := testcontainers.NewDockerClientWithOpts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer lc.Close()
		cs, err := lc.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: byLabel})
		if err != nil {
			t.Fatal(err)
		}
		ns, err := lc.NetworkList(ctx, client.NetworkListOptions{Filters: byLabel})
		if err != nil {
			t.Fatal(err)
		}
		return len(cs.Items), len(ns.Items)
	}
	t.Cleanup(func() { // if Stop failed to
		lc, err := testcontainers.NewDockerClientWithOpts(ctx)
		if err != nil {
			return
		}
		defer lc.Close()
		(&cluster{cli: lc, id: fleetID}).removeLabelled(ctx)
	})

	if _, err := cli.NetworkCreate(ctx, fleetID, client.NetworkCreateOptions{Labels: labels}); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{Config: &dcontainer.Config{Image: image, Labels: labels}}); err != nil {
		t.Fatal(err)
	}
	if ctrs, nets := left(); ctrs != 1 || nets != 1 {
		t.Fatalf("before Stop: %d containers, %d networks; want 1, 1", ctrs, nets)
	}
	c := &cluster{cli: cli, id: fleetID, parallel: 2, nodes: make([]*Node, 2)} // as Start's error path has it
	if err := c.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if ctrs, nets := left(); ctrs != 0 || nets != 0 {
		t.Errorf("after Stop: %d containers, %d networks left; want none", ctrs, nets)
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
