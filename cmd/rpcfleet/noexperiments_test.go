//go:build noexperiments

package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// The image's build leaves `run` out: asking for it is a usage error.
func TestNoExperimentsHasNoRun(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"run", "x.yaml"}, &stdout, &stderr); code != 2 {
		t.Errorf("exit code %d, want 2", code)
	}
	if !strings.Contains(stderr.String(), `unknown command "run"`) {
		t.Errorf("stderr %q does not name the unknown command", stderr.String())
	}
}
