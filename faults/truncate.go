package faults

// Truncate writes the first half of the encoded reply, then closes the
// connection.
//
// The client observes io.ErrUnexpectedEOF (or a gob error) for every call
// pending on the connection.
type Truncate struct{}

// Kind returns "truncate".
func (Truncate) Kind() string { return "truncate" }

func (Truncate) String() string { return "truncate" }

func (*Truncate) set(key, val string) error { return noValue("truncate", key, val) }
