package faults_test

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/rpcfleet/rpcfleet/faults"
)

func TestPlansLoadFromYAML(t *testing.T) {
	var scenario struct {
		Faults faults.Plan `yaml:"faults"`
	}
	src := `
faults: "delay=50ms,jitter=10ms;error=boom,p=0.25"
`
	if err := yaml.Unmarshal([]byte(src), &scenario); err != nil {
		t.Fatal(err)
	}
	if got, want := scenario.Faults.String(), "delay=50ms,jitter=10ms;error=boom,p=0.25"; got != want {
		t.Errorf("faults = %q, want %q", got, want)
	}
	out, err := yaml.Marshal(scenario)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(out), "faults: delay=50ms,jitter=10ms;error=boom,p=0.25\n"; got != want {
		t.Errorf("marshalled %q, want %q", got, want)
	}

	err = yaml.Unmarshal([]byte("faults: error=boom;delay=5x\n"), &scenario)
	if err == nil || !strings.Contains(err.Error(), `"5x": not a duration`) {
		t.Errorf("bad rule in YAML: %v, want the bad token named", err)
	}
}
