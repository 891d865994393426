package faults

// Corrupt writes random bytes, as many as the encoded reply, instead of the
// reply, then closes the connection. The bytes come from the seeded PRNG.
//
// The client observes a decoding error (a gob error) or
// io.ErrUnexpectedEOF for every call pending on the connection.
type Corrupt struct{}

// Kind returns "corrupt".
func (Corrupt) Kind() string { return "corrupt" }

// String returns the fault in the text form Parse reads.
func (Corrupt) String() string { return "corrupt" }

func (*Corrupt) set(key, val string) error { return noValue("corrupt", key, val) }
