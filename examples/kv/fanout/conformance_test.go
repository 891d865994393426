package fanout_test

import (
	"testing"

	"github.com/rpcfleet/rpcfleet/examples/kv/kvtest"
	"github.com/rpcfleet/rpcfleet/suites"
)

// The conformance suite as plain subtests: go test -run 'TestConformance/ordering' picks a group.
func TestConformance(t *testing.T) {
	suites.RunOf(t, kvtest.Get, kvtest.NewClient, suites.TimesOut(), suites.HonoursCancel(), suites.KeepsInputOrder(), suites.AggregatesErrors())
}
