package matchers

import (
	"fmt"
	"reflect"
	"time"

	"github.com/rpcfleet/rpcfleet/fleet"
)

// Result is what a fan-out reported for the call to one address. No
// matcher reads its Reply: a slice of results of any reply type, such as
// []suites.ResultOf[R], works as well.
type Result struct {
	Addr    string        // the address called
	Reply   fleet.Reply   // the reply of Service.Method; meaningful only when Err is nil
	Err     error         // nil if the call succeeded
	Latency time.Duration // how long the call took; 0 if not measured
}

// Run is one fan-out as a spec observed it: what went in, what came out,
// and the fleet's journal read after it returned.
type Run struct {
	Addrs    []string      // the addresses fanned out to, in order
	Results  []Result      // what the fan-out returned
	Err      error         // the fan-out's own error
	Elapsed  time.Duration // from the call to its return
	Returned time.Time     // when it returned

	// Servers are the fleet's addresses by server index (Fleet.Addrs), to
	// match journal calls, which name their server by index, to
	// addresses. If nil, calls are matched by Call.Addr.
	Servers []string
	// Calls is the fleet's journal of the calls received since the
	// fan-out started, read after it returned.
	Calls []fleet.Call
}

// outcomesOf returns the outcomes in actual, and the Run they come from if
// any.
func outcomesOf(actual any) ([]Result, *Run, error) {
	switch a := actual.(type) {
	case Run:
		return a.Results, &a, nil
	case *Run:
		if a == nil {
			return nil, nil, fmt.Errorf("matchers: got a nil *Run")
		}
		return a.Results, a, nil
	case []Result:
		return a, nil, nil
	}
	v := reflect.ValueOf(actual)
	if v.Kind() != reflect.Slice || v.Type().Elem().Kind() != reflect.Struct {
		return nil, nil, fmt.Errorf("matchers: want a Run, []Result or a slice of results with Addr and Err fields, got %T", actual)
	}
	et := v.Type().Elem()
	addrF, ok1 := et.FieldByName("Addr")
	errF, ok2 := et.FieldByName("Err")
	errType := reflect.TypeFor[error]()
	if !ok1 || !ok2 || addrF.Type.Kind() != reflect.String || errF.Type != errType {
		return nil, nil, fmt.Errorf("matchers: %T: elements need fields Addr string and Err error", actual)
	}
	latF, hasLat := et.FieldByName("Latency")
	hasLat = hasLat && latF.Type == reflect.TypeFor[time.Duration]()
	replyF, hasReply := et.FieldByName("Reply")
	hasReply = hasReply && replyF.Type == reflect.TypeFor[fleet.Reply]()
	out := make([]Result, v.Len())
	for i := range out {
		e := v.Index(i)
		o := Result{Addr: e.FieldByIndex(addrF.Index).String()}
		if err := e.FieldByIndex(errF.Index); !err.IsNil() {
			o.Err = err.Interface().(error)
		}
		if hasLat {
			o.Latency = time.Duration(e.FieldByIndex(latF.Index).Int())
		}
		if hasReply {
			o.Reply = e.FieldByIndex(replyF.Index).Interface().(fleet.Reply)
		}
		out[i] = o
	}
	return out, nil, nil
}

// callsOf returns the journal in actual, and the Run it comes from if any.
func callsOf(actual any) ([]fleet.Call, *Run, error) {
	switch a := actual.(type) {
	case Run:
		return a.Calls, &a, nil
	case *Run:
		if a == nil {
			return nil, nil, fmt.Errorf("matchers: got a nil *Run")
		}
		return a.Calls, a, nil
	case []fleet.Call:
		return a, nil, nil
	}
	return nil, nil, fmt.Errorf("matchers: want a Run or a []fleet.Call, got %T", actual)
}

// callsTo returns the journal's calls to addr: by server index when the
// fleet's addresses are known, else by the address the server recorded.
func (r *Run) callsTo(addr string) []fleet.Call {
	if r == nil {
		return nil
	}
	server := -1
	for i, a := range r.Servers {
		if a == addr {
			server = i
			break
		}
	}
	var out []fleet.Call
	for _, c := range r.Calls {
		if (server >= 0 && c.Server == server) || (r.Servers == nil && c.Addr == addr) {
			out = append(out, c)
		}
	}
	return out
}

// addrOf returns server i's address if the run knows it.
func (r *Run) addrOf(server int) string {
	if r != nil && server >= 0 && server < len(r.Servers) {
		return r.Servers[server]
	}
	return ""
}
