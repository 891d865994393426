// Package experiment runs fault-injection experiments: a scenario (a YAML
// file read by Load or Parse, or a Scenario built in code) names a fleet,
// its faults and the reference caller's strategies to compare; Run drives
// each strategy, and any fan-out of your own given by WithFanOut, against a
// fleet of its own for a number of rounds or a duration, and returns a
// Report of latency percentiles (from an HDR histogram), success and slow
// rates, extra calls and errors by kind, which can be written as a table,
// JSON or CSV, and plotted as latency CDFs. `rpcfleet run` is this package
// on the command line.
//
// Your fan-out takes the shape of FanOut in a few lines:
//
//	mine := func(ctx context.Context, addrs []string) error {
//		_, err := myFanOut(ctx, addrs, "experiment") // your code
//		return err
//	}
//	rep, err := experiment.Run(ctx, sc, nil, experiment.WithFanOut("mine", mine))
//
// WithFleet serves your receivers on the fleets (fleet.WithService) and
// WithCall makes the strategies call your method with your args.
//
// Run starts and stops every fleet it uses; nothing it returns needs
// closing. A FanOut is called from several goroutines at once. A Report is
// a plain value: reading it (Write, Plot) from several goroutines is safe,
// changing it is not.
package experiment
