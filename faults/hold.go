package faults

// Hold keeps the reply instead of sending it, until the test releases it:
// fleet.Fleet's Release(ctx, i) sends what server i holds, in the order
// it was held, and ReleaseAll what every server holds. So a test chooses
// the order replies go out in ("server 7, then 3, then the rest"), with
// no delay and no timing slack, as tokio-rs/turmoil's hold and release do
// for messages.
//
// The client observes a call that takes as long as the test waits to
// release it, then its normal reply (or the method's own error). A delay
// rule that also applies passes first; the reply is held once it has.
// A held reply waits whatever the plan becomes; it is lost, and its call
// fails as on a dropped connection, if the connection closes first (the
// client gives up and closes it, or the server is killed or stopped).
// The journal shows a held call as Held until it is released.
type Hold struct{}

func (Hold) kind() string { return "hold" }
func (Hold) text() string { return "hold" }

func (*Hold) set(key, val string) error { return noValue("hold", key, val) }
