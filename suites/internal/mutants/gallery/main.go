// Command gallery runs the conformance suite against every mutant of
// package mutants and fails unless each one is caught within 30s. It
// prints, per mutant, the spec that caught it and how long the run took
// until then, and the mutation score. First it runs the controls, which
// must pass. `make mutants` runs it:
//
//	go run ./suites/internal/mutants/gallery [-v] [-only name,name]
//
// Every run is one process of the suite's test binary, built once with
// -race, in Ginkgo's defined order with --fail-fast and a fixed seed. A
// racy mutant is caught by the suite itself, which fails the spec during
// which the race detector reported a race; if a run dies without a
// report, the spec it was in is read from the progress file the suite
// appends to.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/rpcfleet/rpcfleet/suites/internal/mutants"
)

// budget is how long a mutant may survive the suite.
const budget = 30 * time.Second

const pkg = "github.com/rpcfleet/rpcfleet/suites/internal/mutants"

func main() {
	verbose := flag.Bool("v", false, "print each run's output")
	only := flag.String("only", "", "comma-separated mutant names to run (default: all)")
	flag.Parse()
	if err := run(*verbose, *only); err != nil {
		fmt.Fprintln(os.Stderr, "mutants:", err)
		os.Exit(1)
	}
}

// verdict is what one run of the suite against a mutant showed.
type verdict struct {
	caught bool
	spec   string        // the spec that caught it
	why    string        // the first line of its failure
	after  time.Duration // from the start of the process to the catch
}

func run(verbose bool, only string) error {
	dir, err := os.MkdirTemp("", "rpcfleet-mutants-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "mutants.test")
	fmt.Println("building the suite with -race ...")
	if out, err := exec.Command("go", "test", "-c", "-race", "-o", bin, pkg).CombinedOutput(); err != nil {
		return fmt.Errorf("go test -c: %v\n%s", err, out)
	}

	fmt.Println("running the controls, which must pass ...")
	start := time.Now()
	if out, err := suite(context.Background(), bin, "--ginkgo.no-color", "--ginkgo.seed=1").CombinedOutput(); err != nil {
		return fmt.Errorf("the controls fail the conformance suite, so a mutant's failure would prove nothing: %v\n%s", err, out)
	}
	fmt.Printf("controls passed in %v\n\n", round(time.Since(start)))

	all := mutants.All()
	if only != "" {
		names := strings.Split(only, ",")
		all = slices.DeleteFunc(all, func(m mutants.Mutant) bool { return !slices.Contains(names, m.Name) })
	}
	var missed []string
	var rows []string
	for _, m := range all {
		v, out, err := try(bin, dir, m.Name)
		if err != nil {
			return fmt.Errorf("%s: %w", m.Name, err)
		}
		if verbose {
			os.Stdout.Write(out)
		}
		fmt.Printf("%s: %s\n", m.Name, m.Bug)
		rows = append(rows, row(m, v))
		switch {
		case !v.caught:
			missed = append(missed, m.Name)
			fmt.Printf("    SURVIVED: every spec passed (%v)\n", round(v.after))
		case v.after > budget:
			missed = append(missed, m.Name)
			fmt.Printf("    TOO SLOW: caught after %v, over %v, by %s\n        %s\n", round(v.after), budget, v.spec, v.why)
		default:
			fmt.Printf("    caught after %v by %s\n        %s\n", round(v.after), v.spec, v.why)
		}
	}
	fmt.Printf("\n| mutant | shape | bug | source | caught by (first line of the failure) | after |\n|---|---|---|---|---|---|\n%s\n", strings.Join(rows, "\n"))
	caught := len(all) - len(missed)
	fmt.Printf("\nmutation score: %d of %d mutants caught within %v (%.0f%%)\n", caught, len(all), budget, 100*float64(caught)/float64(max(1, len(all))))
	if len(missed) > 0 {
		return fmt.Errorf("not caught within %v: %s", budget, strings.Join(missed, ", "))
	}
	return nil
}

// row is m's line of the gallery's Markdown table.
func row(m mutants.Mutant, v verdict) string {
	shape, source := m.Shape, m.Source
	if shape == "" {
		shape = "wait-for-all"
	}
	if source == "" {
		source = "-"
	}
	caught := "SURVIVED"
	if v.caught {
		caught = fmt.Sprintf("%s (%s)", v.spec, v.why)
	}
	cell := func(s string) string { return strings.ReplaceAll(s, "|", "\\|") }
	return fmt.Sprintf("| %s | %s | %s | %s | %s | %v |", m.Name, shape, cell(m.Bug), cell(source), cell(caught), round(v.after))
}

// suite returns the command that runs the built suite with args.
func suite(ctx context.Context, bin string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, bin, append([]string{"-test.timeout=5m"}, args...)...)
}

// try runs the suite against one mutant and reads what caught it.
func try(bin, dir, name string) (verdict, []byte, error) {
	report := filepath.Join(dir, name+".json")
	progress := filepath.Join(dir, name+".progress")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := suite(ctx, bin, "-mutant="+name, "-progress="+progress,
		"--ginkgo.fail-fast", "--ginkgo.no-color", "--ginkgo.seed=1", "--ginkgo.json-report="+report)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	var v verdict
	v.after = time.Since(start)
	if err == nil {
		return v, out, nil
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		return v, out, err
	}
	v.caught = true
	spec, why, after, err := firstFailure(report)
	if err != nil {
		v.spec, v.why = lastStarted(progress), fmt.Sprintf("exit status %d, no report: %v", exit.ExitCode(), err)
		if bytes.Contains(out, []byte("WARNING: DATA RACE")) {
			v.why = "data race, then " + v.why
		}
		if i := bytes.Index(out, []byte("\npanic: ")); i >= 0 {
			line, _, _ := bytes.Cut(out[i+1:], []byte("\n"))
			v.why = "the process died: " + string(line)
		}
		return v, out, nil
	}
	v.spec, v.why = spec, why
	if after > 0 && after < v.after {
		v.after = after
	}
	return v, out, nil
}

// firstFailure reads a Ginkgo JSON report: the first spec that failed, the
// first line of its failure, and how long after the suite started it
// ended.
func firstFailure(path string) (spec, why string, after time.Duration, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", "", 0, err
	}
	var reports []types.Report
	if err := json.Unmarshal(data, &reports); err != nil {
		return "", "", 0, err
	}
	for _, r := range reports {
		specs := r.SpecReports.WithState(types.SpecStateFailureStates)
		slices.SortFunc(specs, func(a, b types.SpecReport) int { return a.EndTime.Compare(b.EndTime) })
		for _, s := range specs {
			if s.LeafNodeType != types.NodeTypeIt {
				continue
			}
			why := firstLine(s.Failure.Message)
			where := ""
			if s.Failure.FailureNodeType != types.NodeTypeIt {
				where = "in cleanup: "
			}
			return short(s), where + why, s.EndTime.Sub(r.StartTime), nil
		}
	}
	return "", "", 0, errors.New("no failed spec in the report")
}

// short names a spec by the containers below the mutant's and its text.
func short(s types.SpecReport) string {
	texts := append(slices.Clone(s.ContainerHierarchyTexts), s.LeafNodeText)
	if i := slices.Index(texts, "fan-out conformance"); i >= 0 {
		texts = texts[i+1:]
	}
	return strings.Join(texts, " / ")
}

// lastStarted returns the spec the progress file says started last.
func lastStarted(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return "(unknown spec)"
	}
	defer f.Close()
	last := "(unknown spec)"
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		event, rest, _ := strings.Cut(sc.Text(), "\t")
		if event == "start" {
			_, text, _ := strings.Cut(rest, "\t")
			if _, after, ok := strings.Cut(text, "fan-out conformance / "); ok {
				text = after
			}
			last = text
		}
	}
	return last
}

// firstLine is the gist of a failure message: its first line, with the
// annotation that follows an Eventually's "Timed out after".
func firstLine(msg string) string {
	lines := strings.Split(strings.TrimSpace(msg), "\n")
	why := lines[0]
	if (strings.HasPrefix(why, "Timed out after") || strings.HasPrefix(why, "Failed after")) && len(lines) > 1 {
		why += " " + strings.TrimSpace(lines[1])
	}
	if len(why) > 160 {
		why = why[:157] + "..."
	}
	return why
}

// round rounds d for printing.
func round(d time.Duration) time.Duration { return d.Round(10 * time.Millisecond) }
