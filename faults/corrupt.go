package faults

// Corrupt writes random bytes, as many as the encoded reply, instead of the
// reply, then closes the connection. The bytes come from the seeded PRNG.
//
// The client observes a decoding error (a gob error) or
// io.ErrUnexpectedEOF for every call pending on the connection.
type Corrupt struct{}

func (Corrupt) kind() string { return "corrupt" }
func (Corrupt) text() string { return "corrupt" }

func (*Corrupt) set(key, val string) error { return noValue("corrupt", key, val) }
