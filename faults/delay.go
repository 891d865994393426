package faults

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Delay holds a reply back so that it leaves the server no sooner than the
// drawn delay after the request arrived. The delay is drawn per call from
// Dist:
//
//	fixed        D ± Jitter, uniformly (delay=50ms,jitter=10ms)
//	uniform      between Min and Max (delay=uniform,min=10ms,max=50ms)
//	normal       Mean, standard deviation StdDev (delay=normal,mean=50ms,stddev=10ms)
//	lognormal    median Median, shape Sigma (delay=lognormal,median=20ms,sigma=1)
//	exponential  mean Mean (delay=exponential,mean=20ms)
//	pareto       minimum Scale, tail index Shape (delay=pareto,scale=10ms,shape=1.5)
//
// A draw below zero counts as zero; Cap, if set, bounds every draw
// (cap=1s).
//
// The client observes a slower but otherwise normal reply. Replies to other
// calls on the same connection are not held up: the delayed reply is
// written later, not slept on inside WriteResponse.
type Delay struct {
	Dist   string        // "" or "fixed", "uniform", "normal", "lognormal", "exponential", "pareto"
	D      time.Duration // fixed
	Jitter time.Duration // fixed
	Min    time.Duration // uniform
	Max    time.Duration // uniform
	Mean   time.Duration // normal, exponential
	StdDev time.Duration // normal
	Median time.Duration // lognormal
	Sigma  float64       // lognormal
	Scale  time.Duration // pareto
	Shape  float64       // pareto
	Cap    time.Duration // upper bound of every draw; 0: none
}

func (Delay) kind() string { return "delay" }

func (d Delay) text() string {
	var s string
	switch d.Dist {
	case "", "fixed":
		s = "delay=" + d.D.String()
		if d.Jitter > 0 {
			s += ",jitter=" + d.Jitter.String()
		}
	case "uniform":
		s = fmt.Sprintf("delay=uniform,min=%v,max=%v", d.Min, d.Max)
	case "normal":
		s = fmt.Sprintf("delay=normal,mean=%v,stddev=%v", d.Mean, d.StdDev)
	case "lognormal":
		s = fmt.Sprintf("delay=lognormal,median=%v,sigma=%s", d.Median, fmtFloat(d.Sigma))
	case "exponential":
		s = fmt.Sprintf("delay=exponential,mean=%v", d.Mean)
	case "pareto":
		s = fmt.Sprintf("delay=pareto,scale=%v,shape=%s", d.Scale, fmtFloat(d.Shape))
	default:
		s = "delay=" + d.Dist
	}
	if d.Cap > 0 {
		s += ",cap=" + d.Cap.String()
	}
	return s
}

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func (d *Delay) set(key, val string) error {
	dur := func(dst *time.Duration) error {
		v, err := parseDuration(val)
		*dst = v
		return err
	}
	pos := func(dst *float64) error {
		v, err := strconv.ParseFloat(val, 64)
		if err != nil || !(v > 0) || math.IsInf(v, 0) {
			return fmt.Errorf("must be a positive number")
		}
		*dst = v
		return nil
	}
	switch key {
	case "":
		switch val {
		case "uniform", "normal", "lognormal", "exponential", "pareto":
			d.Dist = val
			return nil
		}
		if val == "" {
			return fmt.Errorf("delay needs a duration or a distribution, e.g. delay=50ms or delay=exponential,mean=20ms")
		}
		v, err := parseDuration(val)
		if err != nil && strings.HasPrefix(val, "-") {
			return err // a duration, only negative
		}
		if err != nil {
			return fmt.Errorf("%v, or a distribution (uniform, normal, lognormal, exponential, pareto)", err)
		}
		d.D = v
		return nil
	case "cap":
		return dur(&d.Cap)
	}
	switch d.Dist + "." + key {
	case ".jitter":
		return dur(&d.Jitter)
	case "uniform.min":
		return dur(&d.Min)
	case "uniform.max":
		return dur(&d.Max)
	case "normal.mean", "exponential.mean":
		return dur(&d.Mean)
	case "normal.stddev":
		return dur(&d.StdDev)
	case "lognormal.median":
		return dur(&d.Median)
	case "lognormal.sigma":
		return pos(&d.Sigma)
	case "pareto.scale":
		return dur(&d.Scale)
	case "pareto.shape":
		return pos(&d.Shape)
	}
	return errUnknownSetting
}

// check reports settings a distribution is missing or that contradict.
func (d Delay) check() error {
	switch d.Dist {
	case "uniform":
		if d.Max == 0 || d.Min > d.Max {
			return fmt.Errorf("uniform needs min <= max, max > 0")
		}
	case "normal":
		if d.Mean == 0 || d.StdDev == 0 {
			return fmt.Errorf("normal needs mean and stddev")
		}
	case "lognormal":
		if d.Median == 0 || d.Sigma == 0 {
			return fmt.Errorf("lognormal needs median and sigma")
		}
	case "exponential":
		if d.Mean == 0 {
			return fmt.Errorf("exponential needs mean")
		}
	case "pareto":
		if d.Scale == 0 || d.Shape == 0 {
			return fmt.Errorf("pareto needs scale and shape")
		}
	}
	return nil
}
