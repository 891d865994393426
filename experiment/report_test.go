package experiment

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// fixedReport is a report with known figures, for the golden files.
func fixedReport(t *testing.T) *Report {
	t.Helper()
	rep := &Report{Scenario: "golden", Servers: 100, Seed: 42, InFlight: 4, Faults: "delay=100ms,p=0.01;delay=1ms"}
	for _, s := range []struct {
		name         string
		lat          []time.Duration
		sent, failed int
	}{
		{"wait-all", []time.Duration{2 * time.Millisecond, 101 * time.Millisecond, 103 * time.Millisecond, 104 * time.Millisecond}, 400, 1},
		{"hedged", []time.Duration{2 * time.Millisecond, 3 * time.Millisecond, 12 * time.Millisecond, 13 * time.Millisecond}, 406, 0},
	} {
		r := newResult(s.name)
		for _, d := range s.lat {
			if err := r.Latency.RecordValue(int64(d / time.Microsecond)); err != nil {
				t.Fatal(err)
			}
			r.Rounds++
			r.Calls += 100
			if d >= 50*time.Millisecond {
				r.Slow++
			}
		}
		r.Succeeded = r.Rounds - s.failed
		r.Sent = s.sent
		if s.failed > 0 {
			r.Errors["timeout"] = s.failed
			r.Errors["error-reply"] = 2
		}
		r.Wall = time.Second
		r.summarise()
		rep.Results = append(rep.Results, r)
	}
	return rep
}

func TestReportFormats(t *testing.T) {
	for _, format := range Formats {
		t.Run(format, func(t *testing.T) {
			var got bytes.Buffer
			if err := fixedReport(t).Write(&got, format); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "report."+format)
			if *update {
				if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update once to create it)", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("%s output differs from %s:\n--- got\n%s\n--- want\n%s", format, golden, got.Bytes(), want)
			}
		})
	}
	if err := fixedReport(t).Write(&bytes.Buffer{}, "yaml"); err == nil {
		t.Error("unknown format accepted")
	}
}

func TestPlot(t *testing.T) {
	for _, ext := range []string{"png", "svg"} {
		path := filepath.Join(t.TempDir(), "cdf."+ext)
		if err := fixedReport(t).Plot(path); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(path); err != nil || fi.Size() < 1000 {
			t.Errorf("%s plot: %v, %v", ext, fi, err)
		}
	}
	one := &Report{Scenario: "one", Results: []Result{newResult("a")}}
	_ = one.Results[0].Latency.RecordValue(300)
	if err := one.Plot(filepath.Join(t.TempDir(), "one.png")); err != nil {
		t.Errorf("a plot of one fan-out: %v", err)
	}
	none := &Report{Scenario: "none", Results: []Result{newResult("a")}}
	if err := none.Plot(filepath.Join(t.TempDir(), "none.png")); err == nil {
		t.Error("a plot of no fan-out was written")
	}
	if err := fixedReport(t).Plot(filepath.Join(t.TempDir(), "cdf.gif")); err == nil {
		t.Error("a .gif plot was accepted")
	}
}
