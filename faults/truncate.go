package faults

// Truncate writes the first half of the encoded reply, then closes the
// connection.
//
// The client observes an "unexpected EOF" error for every call pending on
// the connection: io.ErrUnexpectedEOF when the cut falls in the header,
// net/rpc's "reading body unexpected EOF" when it falls in the body.
type Truncate struct{}

func (Truncate) kind() string { return "truncate" }
func (Truncate) text() string { return "truncate" }

func (*Truncate) set(key, val string) error { return noValue("truncate", key, val) }
