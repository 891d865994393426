package experiment

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Report is the outcome of an experiment: one Result per strategy, in the
// scenario's order, then one per fan-out of WithFanOut, in the order given.
type Report struct {
	Scenario    string   `json:"scenario"`
	Servers     int      `json:"servers"`
	Seed        uint64   `json:"seed"`
	InFlight    int      `json:"inflight"`
	Faults      string   `json:"faults"`
	Interrupted bool     `json:"interrupted,omitempty"` // stopped early (Ctrl-C): figures so far
	Results     []Result `json:"results"`
}

// Result is what one strategy, or one fan-out of WithFanOut, did.
type Result struct {
	Strategy  string         `json:"strategy"`  // the strategy's name, or the fan-out's
	Rounds    int            `json:"rounds"`    // fan-outs completed
	Succeeded int            `json:"succeeded"` // fan-outs that returned no error
	Calls     int            `json:"calls"`     // calls the fan-outs asked for (rounds × servers)
	Sent      int            `json:"sent"`      // calls sent, retries and hedges included (a fan-out of WithFanOut: Calls)
	Slow      int            `json:"slow"`      // fan-outs at least the scenario's slow threshold
	P50       time.Duration  `json:"p50"`
	P90       time.Duration  `json:"p90"`
	P99       time.Duration  `json:"p99"`
	P999      time.Duration  `json:"p999"`
	Max       time.Duration  `json:"max"`
	Errors    map[string]int `json:"errors"` // failed calls by kind (a fan-out of WithFanOut: its errors)
	Wall      time.Duration  `json:"wall"`

	// Latency holds every fan-out's latency in microseconds.
	Latency *hdrhistogram.Histogram `json:"-"`
}

// newResult returns an empty result for a strategy.
func newResult(name string) Result {
	return Result{
		Strategy: name,
		Errors:   map[string]int{},
		// 1µs to 1h at 3 significant digits.
		Latency: hdrhistogram.New(1, int64(time.Hour/time.Microsecond), 3),
	}
}

// summarise fills the percentiles from the histogram.
func (r *Result) summarise() {
	q := func(p float64) time.Duration {
		return time.Duration(r.Latency.ValueAtQuantile(p)) * time.Microsecond
	}
	r.P50, r.P90, r.P99, r.P999 = q(50), q(90), q(99), q(99.9)
	r.Max = time.Duration(r.Latency.Max()) * time.Microsecond
}

// SuccessRate is the share of fan-outs that returned no error.
func (r Result) SuccessRate() float64 {
	if r.Rounds == 0 {
		return 0
	}
	return float64(r.Succeeded) / float64(r.Rounds)
}

// SlowRate is the share of fan-outs at least the slow threshold.
func (r Result) SlowRate() float64 {
	if r.Rounds == 0 {
		return 0
	}
	return float64(r.Slow) / float64(r.Rounds)
}

// ExtraPct is the calls sent beyond those asked for, as a percentage.
func (r Result) ExtraPct() float64 {
	if r.Calls == 0 {
		return 0
	}
	return 100 * float64(r.Sent-r.Calls) / float64(r.Calls)
}

// errorList is the errors by kind as "kind=n kind=n", sorted by kind.
func (r Result) errorList() string {
	if len(r.Errors) == 0 {
		return "-"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(r.Errors)) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, r.Errors[k]))
	}
	return strings.Join(parts, " ")
}

// Formats are the names Write accepts.
var Formats = []string{"table", "json", "csv"}

// Write writes the report in format: "table", "json" or "csv".
func (rep *Report) Write(w io.Writer, format string) error {
	switch format {
	case "table":
		return rep.writeTable(w)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep.jsonForm())
	case "csv":
		return rep.writeCSV(w)
	}
	return fmt.Errorf("experiment: unknown format %q (want table, json or csv)", format)
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64)
}

func (rep *Report) writeTable(w io.Writer) error {
	state := ""
	if rep.Interrupted {
		state = " (interrupted: figures so far)"
	}
	fmt.Fprintf(w, "scenario %s: %d servers, %d fan-outs in flight, seed %d%s\n", rep.Scenario, rep.Servers, rep.InFlight, rep.Seed, state)
	if rep.Faults != "" {
		fmt.Fprintf(w, "faults: %s\n", rep.Faults)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "strategy\trounds\tok %\tslow %\tp50 ms\tp90 ms\tp99 ms\tp99.9 ms\tmax ms\textra %\t")
	for _, r := range rep.Results {
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.1f\t%s\t%s\t%s\t%s\t%s\t%.2f\t\n", r.Strategy, r.Rounds,
			100*r.SuccessRate(), 100*r.SlowRate(), ms(r.P50), ms(r.P90), ms(r.P99), ms(r.P999), ms(r.Max), r.ExtraPct())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nerrors by kind:")
	for _, r := range rep.Results {
		fmt.Fprintf(w, "  %s: %s\n", r.Strategy, r.errorList())
	}
	return nil
}

func (rep *Report) writeCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"strategy", "rounds", "succeeded", "calls", "sent", "slow",
		"p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms", "extra_pct", "errors", "seed"})
	for _, r := range rep.Results {
		cw.Write([]string{r.Strategy, strconv.Itoa(r.Rounds), strconv.Itoa(r.Succeeded), strconv.Itoa(r.Calls),
			strconv.Itoa(r.Sent), strconv.Itoa(r.Slow), ms(r.P50), ms(r.P90), ms(r.P99), ms(r.P999), ms(r.Max),
			strconv.FormatFloat(r.ExtraPct(), 'f', 2, 64), r.errorList(), strconv.FormatUint(rep.Seed, 10)})
	}
	cw.Flush()
	return cw.Error()
}

// jsonResult is a Result as JSON shows it: latencies in milliseconds.
type jsonResult struct {
	Strategy    string         `json:"strategy"`
	Rounds      int            `json:"rounds"`
	Succeeded   int            `json:"succeeded"`
	SuccessRate float64        `json:"success_rate"`
	Calls       int            `json:"calls"`
	Sent        int            `json:"sent"`
	ExtraPct    float64        `json:"extra_pct"`
	Slow        int            `json:"slow"`
	P50         float64        `json:"p50_ms"`
	P90         float64        `json:"p90_ms"`
	P99         float64        `json:"p99_ms"`
	P999        float64        `json:"p999_ms"`
	Max         float64        `json:"max_ms"`
	Errors      map[string]int `json:"errors"`
}

func (rep *Report) jsonForm() any {
	msf := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	out := struct {
		Report
		Results []jsonResult `json:"results"`
	}{Report: *rep}
	for _, r := range rep.Results {
		out.Results = append(out.Results, jsonResult{
			Strategy: r.Strategy, Rounds: r.Rounds, Succeeded: r.Succeeded, SuccessRate: r.SuccessRate(),
			Calls: r.Calls, Sent: r.Sent, ExtraPct: r.ExtraPct(), Slow: r.Slow,
			P50: msf(r.P50), P90: msf(r.P90), P99: msf(r.P99), P999: msf(r.P999), Max: msf(r.Max), Errors: r.Errors,
		})
	}
	return out
}
