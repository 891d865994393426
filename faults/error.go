package faults

import "fmt"

// Error replaces the reply with an error reply carrying Msg.
//
// The client observes an rpc.ServerError whose text is Msg; the connection
// stays usable.
type Error struct {
	Msg string
}

// Kind returns "error".
func (Error) Kind() string { return "error" }

// String returns the fault in the text form Parse reads.
func (e Error) String() string { return "error=" + quoteIfNeeded(e.Msg) }

func (e *Error) set(key, val string) error {
	if key != "" {
		return errUnknownSetting
	}
	if val == "" {
		return fmt.Errorf("error needs a message, e.g. error=boom")
	}
	e.Msg = val
	return nil
}
