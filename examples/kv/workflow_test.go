// Package kvexample_test checks the KV example's CI recipe: the GitHub
// Actions workflow in .github/workflows/examples-kv.yml.
package kvexample_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// workflow is the part of a GitHub Actions workflow the test reads.
type workflow struct {
	Jobs map[string]struct {
		Env   map[string]string
		Steps []struct {
			Name string
			Uses string
			Run  string
		}
	}
}

// Every command the workflow runs exists: go and its subcommands, tools
// declared in go.mod, the packages it names, and each ginkgo flag it
// passes; every action it uses is pinned to a major version.
func TestWorkflowCommandsExist(t *testing.T) {
	root := filepath.Join("..", "..")
	b, err := os.ReadFile(filepath.Join(root, ".github", "workflows", "examples-kv.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var w workflow
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	if err := dec.Decode(&w); err != nil {
		t.Fatalf("examples-kv.yml: %v", err)
	}
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	ginkgoHelp := ""
	runs := 0
	for name, job := range w.Jobs {
		if job.Env["CI"] != "true" || job.Env["TESTCONTAINERS_RYUK_DISABLED"] != "true" {
			t.Errorf("job %s: env CI and TESTCONTAINERS_RYUK_DISABLED must be \"true\", got %v", name, job.Env)
		}
		for _, s := range job.Steps {
			if s.Uses != "" && !regexp.MustCompile(`^[\w-]+/[\w-]+@v\d+$`).MatchString(s.Uses) {
				t.Errorf("step %q uses %q, want owner/action@vN", s.Name, s.Uses)
			}
			for line := range strings.Lines(s.Run) {
				words := strings.Fields(line)
				if len(words) == 0 {
					continue
				}
				runs++
				if _, err := exec.LookPath(words[0]); err != nil {
					t.Errorf("step %q runs %s: %v", s.Name, words[0], err)
					continue
				}
				if words[0] != "go" {
					continue
				}
				switch words[1] {
				case "test":
				case "tool":
					if !regexp.MustCompile(`(?m)^tool .*/` + regexp.QuoteMeta(words[2]) + `$`).Match(gomod) {
						t.Errorf("step %q runs go tool %s, which go.mod does not declare", s.Name, words[2])
					}
					if ginkgoHelp == "" {
						out, err := exec.CommandContext(t.Context(), "go", "tool", "ginkgo", "help", "run").CombinedOutput()
						if err != nil {
							t.Fatalf("go tool ginkgo help run: %v\n%s", err, out)
						}
						ginkgoHelp = regexp.MustCompile("\x1b\\[[0-9;]*m").ReplaceAllString(string(out), "")
					}
				default:
					t.Errorf("step %q runs go %s, which this test does not know", s.Name, words[1])
				}
				for _, w := range words[2:] {
					if flag, _, _ := strings.Cut(w, "="); words[1] == "tool" && strings.HasPrefix(flag, "-") &&
						!regexp.MustCompile(`(?m)^\s+`+regexp.QuoteMeta(flag)+`( |$)`).MatchString(ginkgoHelp) {
						t.Errorf("step %q: ginkgo has no flag %s", s.Name, flag)
					}
					if strings.HasPrefix(w, "./") {
						if _, err := os.Stat(filepath.Join(root, strings.TrimSuffix(w, "/..."))); err != nil {
							t.Errorf("step %q names package %s: %v", s.Name, w, err)
						}
					}
				}
			}
		}
	}
	if runs < 3 || !slices.ContainsFunc(strings.Fields(string(b)), func(s string) bool { return s == "--junit-report=junit.xml" }) {
		t.Errorf("the workflow runs %d commands, want the plain tests and both Ginkgo runs with JUnit reports", runs)
	}
}
