// Package experiment runs fault-injection experiments: a scenario file
// names a fleet, its faults and the fan-out strategies to compare; Run
// drives each strategy against its own fleet for a number of rounds or a
// duration and returns a Report of latency percentiles (from an HDR
// histogram), success rates, extra calls and errors by kind, which can be
// written as a table, JSON or CSV, and plotted as latency CDFs.
package experiment
