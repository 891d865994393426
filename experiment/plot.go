package experiment

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// palette tells strategies apart on a plot.
var palette = []color.RGBA{
	{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}, {R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
	{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}, {R: 0xff, G: 0x7f, B: 0x0e, A: 0xff},
	{R: 0x94, G: 0x67, B: 0xbd, A: 0xff}, {R: 0x8c, G: 0x56, B: 0x4b, A: 0xff},
}

// Plot writes the latency CDF of every strategy to path, as PNG or SVG by
// its extension: one line per strategy, latency on a log scale, so the
// tail is where the lines part.
func (rep *Report) Plot(path string) error {
	ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(path), "."))
	if ext != "png" && ext != "svg" {
		return fmt.Errorf("experiment: plot %s: want a .png or .svg file", path)
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s: fan-out latency CDF (%d servers, seed %d)", rep.Scenario, rep.Servers, rep.Seed)
	p.X.Label.Text = "fan-out latency (ms, log scale)"
	p.Y.Label.Text = "share of fan-outs at or below"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Y.Min, p.Y.Max = 0, 1
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	p.Legend.Left = true
	lo, hi := math.Inf(1), 0.0
	for i, r := range rep.Results {
		xys := cdf(r)
		if len(xys) == 0 {
			continue
		}
		lo, hi = min(lo, xys[0].X), max(hi, xys[len(xys)-1].X)
		line, err := plotter.NewLine(xys)
		if err != nil {
			return fmt.Errorf("experiment: plot %s: %w", r.Strategy, err)
		}
		line.Color = palette[i%len(palette)]
		line.Width = vg.Points(2)
		p.Add(line)
		p.Legend.Add(fmt.Sprintf("%s (p99 %s ms)", r.Strategy, ms(r.P99)), line)
	}
	if hi == 0 {
		return fmt.Errorf("experiment: plot %s: no fan-out finished, nothing to plot", path)
	}
	// A log axis needs a positive range of some width, even when every
	// fan-out took the same time.
	p.X.Min, p.X.Max = lo/2, max(hi*1.1, lo*10)
	return p.Save(9*vg.Inch, 5*vg.Inch, path)
}

// cdf turns a result's histogram into (ms, cumulative share) points.
func cdf(r Result) plotter.XYs {
	total := r.Latency.TotalCount()
	if total == 0 {
		return nil
	}
	var (
		xys  plotter.XYs
		seen int64
	)
	for _, b := range r.Latency.Distribution() {
		if b.Count == 0 {
			continue
		}
		seen += b.Count
		x := float64(b.To) / 1000
		if x <= 0 {
			x = 0.001
		}
		xys = append(xys, plotter.XY{X: x, Y: float64(seen) / float64(total)})
	}
	return xys
}
