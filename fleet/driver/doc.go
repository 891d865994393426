// Package driver is what a fleet backend implements and what it may use,
// as package database/sql/driver is to database/sql: users steer a fleet
// through package fleet's *Fleet and never import driver; a backend (such
// as package fleet/container) imports driver and not fleet. The name says
// that role: a backend drives servers for package fleet, as a database
// driver serves package sql.
//
// A Backend starts a Cluster of Nodes from the Config that fleet.Start
// assembled from its options. Abilities only some backends have (Pauser,
// Partitioner, ConnCounter) are separate interfaces, found by type
// assertion. A Node reports its server's journal as Calls, each ending
// with an Outcome.
//
// A backend whose servers run in other processes (rpcfleet serve
// --control-port) steers each one through its control port with a
// ControlClient (DialControl); Health is that port's report.
package driver
