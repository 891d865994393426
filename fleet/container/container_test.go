package container_test

import (
	"context"
	"strings"
	"testing"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/fleet/container"
)

// TestStartRejects checks what Start refuses before it touches Docker.
func TestStartRejects(t *testing.T) {
	tests := []struct {
		name string
		ryuk string
		opts []fleet.Option
		want string
	}{
		{"ryuk enabled", "", nil, "set TESTCONTAINERS_RYUK_DISABLED=true"},
		{"ryuk disabled differently", "1", nil, "set TESTCONTAINERS_RYUK_DISABLED=true"},
		{"base port", "true", []fleet.Option{fleet.WithBasePort(20000)}, "ephemeral ports"},
		{"control port", "true", []fleet.Option{fleet.WithControl(21000)}, "ephemeral ports"},
		{"host", "true", []fleet.Option{fleet.WithHost("0.0.0.0")}, "127.0.0.1 only"},
		{"fleet id", "true", []fleet.Option{fleet.WithFleetID("mine")}, "names itself"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(container.RyukEnv, tt.ryuk)
			opts := append([]fleet.Option{fleet.WithBackend(container.New("rpcfleet:dev"))}, tt.opts...)
			f, err := fleet.Start(context.Background(), opts...)
			if err == nil {
				f.Stop(context.Background())
				t.Fatal("Start succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q lacks %q", err, tt.want)
			}
		})
	}
}
