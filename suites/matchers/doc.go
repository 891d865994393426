// Package matchers holds Gomega matchers for the outcomes of a fan-out and
// for a fleet's journal of the calls it received.
//
// Outcome matchers (AllSucceed, FailExactlyOn, BeInInputOrder,
// HaveOneOutcomePerAddress, CompleteWithin) take a Run, a *Run, a
// []Result, or any slice of structs with an Addr string and an Err error
// field, such as []caller.Result[R] or []suites.ResultOf[R]. Journal matchers (HaveOneCallPerServer,
// ReplyInOrder, ReplyBefore) take a []fleet.Call or a Run; ReturnAfterAllReplies
// needs a Run. On failure they print a per-server table, not a dump:
//
//	Expected every call to succeed, but 1 of 3 failed:
//	     #  ADDRESS          OUTCOME      LATENCY  SERVER  FAULT
//	     0  127.0.0.1:40001  ok           2ms      ok      -
//	  >  1  127.0.0.1:40002  error: boom  1ms      error   error=boom
//	     2  127.0.0.1:40003  ok           2ms      ok      -
//
// SERVER and FAULT come from the journal (Run.Calls): what the server did
// with the call and the fault that applied to it.
//
// Matchers keep the result of their last Match for their failure message,
// as Gomega's own do: use each value in one assertion at a time.
package matchers
