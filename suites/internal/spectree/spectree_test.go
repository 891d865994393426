package spectree_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Run reports each spec as a subtest: the passing one passes, each
// failing one fails with its message at the line that failed (past the
// helpers), in the spec's goroutine, another goroutine, a cleanup, or by
// running out of time or panicking; the cleanups of failed specs run.
func TestRunReportsSpecsAsSubtests(t *testing.T) {
	src := filepath.Join("testdata", "failing", "failing_test.go")
	marks := markedLines(t, src)
	out, err := exec.CommandContext(t.Context(), "go", "test", "-count=1", "-v", "./testdata/failing").CombinedOutput()
	if _, ok := err.(*exec.ExitError); !ok {
		t.Fatalf("go test ./testdata/failing: %v, want it to fail\n%s", err, out)
	}
	report := string(out)
	for _, want := range []string{
		"--- PASS: TestTree/group/passes",
		"--- FAIL: TestTree/group/fails_in_a_helper",
		"--- FAIL: TestTree/group/fails_in_a_goroutine",
		"--- FAIL: TestTree/group/times_out",
		"--- FAIL: TestTree/group/panics",
		"--- FAIL: TestTree/fails_in_a_cleanup",
		fmt.Sprintf("failing_test.go:%d\n        n is one\n        Expected\n            <int>: 2", marks["FAILS HERE"]),
		fmt.Sprintf("failing_test.go:%d\n        Expected\n            <string>: goroutine", marks["GOROUTINE FAILS HERE"]),
		fmt.Sprintf("failing_test.go:%d\n        cleanup has a deadline", marks["CLEANUP FAILS HERE"]),
		"ran out of time: context deadline exceeded",
		"panic: kaboom",
		"a note",
		"cleaned: [passes helper]",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if strings.Contains(report, "not reached") {
		t.Error("a spec went on after its failure")
	}
	if t.Failed() {
		t.Logf("the report:\n%s", report)
	}
}

// markedLines returns the line numbers of the lines of file that end in
// a comment "// MARK", by MARK.
func markedLines(t *testing.T, file string) map[string]int {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	marks := map[string]int{}
	s := bufio.NewScanner(f)
	for n := 1; s.Scan(); n++ {
		if _, mark, ok := strings.Cut(s.Text(), "// "); ok && mark == strings.ToUpper(mark) {
			marks[mark] = n
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return marks
}
