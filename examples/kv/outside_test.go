package kvexample_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/mod/modfile"
)

// A module of its own, as a user's would be, wires a KV caller into the
// conformance suite with the README's wiring (at most 15 lines) and runs
// the README's experiment of it against hedging (at most 15 more), then
// runs both: a group of the suite's specs and a short experiment. It
// reaches this module through a replace directive (a user's go get), and
// builds offline from the module cache.
func TestOutsideModuleWiring(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	wiring, experiment := snippet(t, readme, "wiring"), snippet(t, readme, "experiment")
	const load = "\tsc, err := experiment.Load(\"tail-at-scale.yaml\")\n\tif err != nil {\n\t\tt.Fatal(err)\n\t}\n"
	if n := lines(wiring); n > 15 {
		t.Errorf("the README's wiring is %d lines, want at most 15", n)
	}
	if n := lines(load + experiment); n > 15 {
		t.Errorf("the README's experiment, with loading its scenario, is %d lines, want at most 15", n)
	}

	dir := t.TempDir()
	scenario, err := os.ReadFile(filepath.Join(root, "scenarios", "tail-at-scale.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"go.mod":             userMod(t, root),
		"go.sum":             string(sum),
		"tail-at-scale.yaml": string(scenario),
		"mykv_test.go": `package mykv_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rpcfleet/rpcfleet/examples/kv/fanout"
	"github.com/rpcfleet/rpcfleet/examples/kv/kv"
	"github.com/rpcfleet/rpcfleet/examples/kv/kvtest"
	"github.com/rpcfleet/rpcfleet/experiment"
	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites"
)

` + wiring + `
func TestConformance(t *testing.T) {
	suites.RunOf(t, Get, NewClient, suites.TimesOut(), suites.HonoursCancel(), suites.KeepsInputOrder(), suites.AggregatesErrors())
}

func TestMineVsHedging(t *testing.T) {
` + load + "\tsc.Rounds = 50\n" + experiment + `	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 3 {
		t.Fatalf("%d results, want wait-all, hedged and yours", len(rep.Results))
	}
	for _, r := range rep.Results {
		if r.Rounds != sc.Rounds {
			t.Errorf("%s: %d rounds, want %d", r.Strategy, r.Rounds, sc.Rounds)
		}
	}
	_ = kvtest.Value // the example's own wiring, beside yours
}
`,
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	goCmd := func(args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), "go", args...)
		cmd.Dir = dir
		// Offline: everything comes from the module cache this module's
		// own build filled.
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOSUMDB=off")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go %s: %v\n%s\nmykv_test.go:\n%s", strings.Join(args, " "), err, out, files["mykv_test.go"])
		}
		return string(out)
	}
	out := goCmd("test", "-count=1", "-v", "-run", "^(TestConformance|TestMineVsHedging)$/^completion$", ".")
	for _, want := range []string{"--- PASS: TestConformance/completion/returns_one_outcome_per_address", "--- PASS: TestMineVsHedging"} {
		if !strings.Contains(out, want) {
			t.Errorf("the outside module's test run lacks %q:\n%s", want, out)
		}
	}
}

// userMod returns the outside module's go.mod: rpcfleet's go version and
// every module rpcfleet's go.mod requires (a superset of what go mod tidy
// would list in a user's go.mod), rpcfleet itself, replaced by the
// checkout at root. With all of them listed the go command reads only
// their go.mod files, which this module's own build put in the module
// cache; with rpcfleet alone it would walk the whole module graph, whose
// other go.mod files a fresh cache lacks, and fail offline.
func userMod(t *testing.T, root string) string {
	t.Helper()
	path := filepath.Join(root, "go.mod")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ours, err := modfile.ParseLax(path, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	var user modfile.File
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(user.AddModuleStmt("example.com/mykv"))
	must(user.AddGoStmt(ours.Go.Version))
	must(user.AddRequire(ours.Module.Mod.Path, "v0.0.0-00010101000000-000000000000"))
	for _, r := range ours.Require {
		user.AddNewRequire(r.Mod.Path, r.Mod.Version, true)
	}
	must(user.AddReplace(ours.Module.Mod.Path, "", root, ""))
	out, err := user.Format()
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// snippet returns the Go code block of the README that follows the
// marker <!-- outside-module: name -->.
func snippet(t *testing.T, readme []byte, name string) string {
	t.Helper()
	m := regexp.MustCompile(fmt.Sprintf("(?s)<!-- outside-module: %s -->\\s*```go\n(.*?)```", name)).FindSubmatch(readme)
	if m == nil {
		t.Fatalf("README.md has no Go block after <!-- outside-module: %s -->", name)
	}
	return string(m[1])
}

// lines counts the lines of code: not blank, not only a comment.
func lines(code string) int {
	n := 0
	for l := range strings.Lines(code) {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "//") {
			n++
		}
	}
	return n
}
