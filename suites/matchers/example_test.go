package matchers_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/onsi/gomega"

	"github.com/rpcfleet/rpcfleet/fleet"
	"github.com/rpcfleet/rpcfleet/suites/matchers"
)

// A failed AllSucceed prints one row per address, the failed ones marked,
// with what each server did and the fault that applied to it.
func ExampleAllSucceed() {
	addrs := []string{"127.0.0.1:40001", "127.0.0.1:40002", "127.0.0.1:40003"}
	run := matchers.Run{
		Addrs:   addrs,
		Servers: addrs,
		Results: []matchers.Result{
			{Addr: addrs[0], Reply: fleet.Reply{Message: "Hello"}, Latency: 2 * time.Millisecond},
			{Addr: addrs[1], Err: errors.New("boom"), Latency: time.Millisecond},
			{Addr: addrs[2], Err: errors.New("no reply within 500ms"), Latency: 500 * time.Millisecond},
		},
		Calls: []fleet.Call{
			{Server: 0, Outcome: fleet.OK, Rule: -1},
			{Server: 1, Outcome: fleet.Failed, Fault: "error=boom"},
			{Server: 2, Outcome: fleet.Hung, Fault: "hang"},
		},
	}
	g := gomega.NewGomega(func(message string, _ ...int) { fmt.Println(message) })
	g.Expect(run).To(matchers.AllSucceed())
	// Output:
	// Expected every call to succeed, but 2 of 3 failed:
	//      #  ADDRESS          OUTCOME                       LATENCY  SERVER  FAULT
	//      0  127.0.0.1:40001  ok                            2ms      ok      -
	//   >  1  127.0.0.1:40002  error: boom                   1ms      error   error=boom
	//   >  2  127.0.0.1:40003  error: no reply within 500ms  500ms    hung    hang
}
