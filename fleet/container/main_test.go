package container_test

import (
	"os"
	"testing"

	"github.com/rpcfleet/rpcfleet/fleet/container"
)

// TestMain disables Ryuk for the whole package before any test runs:
// testcontainers-go reads its configuration once per process, so a test
// that sets the variable after another test connected would get Ryuk,
// whose image cannot be pulled offline.
func TestMain(m *testing.M) {
	os.Setenv(container.RyukEnv, "true")
	os.Exit(m.Run())
}
