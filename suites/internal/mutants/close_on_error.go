package mutants

// anyErrorBreaks takes every failed call for a broken connection, an
// error reply included, so the pooled caller closes a connection that
// other fan-outs' calls are in flight on.
func anyErrorBreaks(error) bool { return true } // BUG: an error reply is an answer, not a broken connection
