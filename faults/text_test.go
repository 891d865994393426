package faults_test

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/rpcfleet/rpcfleet/faults"
)

func TestPlansLoadFromYAML(t *testing.T) {
	var scenario struct {
		Faults faults.Plan   `yaml:"faults"`
		Rules  []faults.Rule `yaml:"rules"`
	}
	src := `
faults: "delay=50ms,jitter=10ms;error=boom,p=0.25"
rules:
  - error=boom,first=2
  - delay=pareto,scale=10ms,shape=1.5,cap=1s
`
	if err := yaml.Unmarshal([]byte(src), &scenario); err != nil {
		t.Fatal(err)
	}
	if got, want := scenario.Faults.String(), "delay=50ms,jitter=10ms;error=boom,p=0.25"; got != want {
		t.Errorf("faults = %q, want %q", got, want)
	}
	got := faults.Plan{Rules: scenario.Rules}.String()
	if want := "error=boom,first=2;delay=pareto,scale=10ms,shape=1.5,cap=1s"; got != want {
		t.Errorf("rules = %q, want %q", got, want)
	}

	bad := "rules:\n  - error=boom\n  - delay=5x\n"
	err := yaml.Unmarshal([]byte(bad), &scenario)
	if err == nil || !strings.Contains(err.Error(), `"5x": not a duration`) {
		t.Errorf("bad rule in YAML: %v, want the bad token named", err)
	}
	if err := yaml.Unmarshal([]byte("rules: [\"hang;drop\"]"), &scenario); err == nil {
		t.Error("two rules in one rule entry were accepted")
	}
}
