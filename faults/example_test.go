package faults_test

import (
	"fmt"
	"time"

	"github.com/rpcfleet/rpcfleet/faults"
)

// A plan can be written in Go as well as parsed from its text form; its
// String is the text form.
func ExamplePlan() {
	p := faults.Plan{Rules: []faults.Rule{{Fault: faults.Delay{D: 50 * time.Millisecond}}}}
	fmt.Println(p)
	fmt.Println(faults.Plan{Rules: []faults.Rule{
		{Fault: faults.Error{Msg: "boom"}, Servers: faults.Servers{Spans: []faults.Span{{Lo: 0, Hi: 2}}}, P: 0.25},
		{Fault: faults.Hang{}, Method: "Service.Sleep", First: 3},
	}})
	// Output:
	// delay=50ms
	// error=boom,servers=0-2,p=0.25;hang,method=Service.Sleep,first=3
}

func ExampleParse() {
	p, err := faults.Parse("delay=300ms;error=boom,p=0.1")
	if err != nil {
		panic(err)
	}
	fmt.Println(len(p.Rules), p.Rules[1].Fault == faults.Error{Msg: "boom"}, p.Rules[1].P)
	_, err = faults.Parse("delay=5x")
	fmt.Println(err)
	// Output:
	// 2 true 0.1
	// faults: invalid plan "delay=5x": at column 7, "5x": not a duration (want e.g. 50ms, 1.5s), or a distribution (uniform, normal, lognormal, exponential, pareto)
}
