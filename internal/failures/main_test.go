package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const report = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="3" failures="1" errors="1">
  <testsuite name="container" package="/x/suites/container" tests="3">
    <testcase name="[It] passes" classname="container" status="passed" time="0.5"></testcase>
    <testcase name="[It] restarts a server" classname="container" status="failed" time="12.25">
      <failure message="Timed out after 10.001s.&#xA;Expected&#xA;    &lt;int&gt;: 1&#xA;to equal&#xA;    &lt;int&gt;: 2" type="failed">[FAILED] Timed out&#xA;In [It] at: /x/suites/container/lifecycle_test.go:42 @ 12/01/26</failure>
    </testcase>
    <testcase name="[It] hangs" classname="container" status="interrupted" time="30">
      <error message="interrupted" type="interrupted">/x/suites/container/hold_test.go:7</error>
    </testcase>
  </testsuite>
</testsuites>`

func TestNamesEachFailedSpec(t *testing.T) {
	path := filepath.Join(t.TempDir(), "junit.xml")
	if err := os.WriteFile(path, []byte(report), 0o644); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := run(&out, []string{path}); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"1. [container] [It] restarts a server (failed, 12.2s)",
		"at [FAILED] Timed out",
		"   Timed out after 10.001s.\n   Expected",
		"2. [container] [It] hangs (interrupted, 30.0s)",
		"at /x/suites/container/hold_test.go:7",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "passes") {
		t.Errorf("output names a spec that passed:\n%s", got)
	}
}

func TestBoundsALongMessage(t *testing.T) {
	got := head(strings.Repeat("line\n", 40), maxLines)
	if n := strings.Count(got, "line"); n != maxLines+1 { // +1: "more lines"
		t.Errorf("%d lines kept, want %d:\n%s", n, maxLines, got)
	}
	if !strings.Contains(got, "(28 more lines in the report)") {
		t.Errorf("no count of what was left out:\n%s", got)
	}
}

func TestRefusesAReportItCannotParse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "junit.xml")
	if err := os.WriteFile(path, []byte("<testsuites><testsuite"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := run(&strings.Builder{}, []string{path})
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("err = %v, want one naming %s", err, path)
	}
}
