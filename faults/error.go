package faults

import "fmt"

// Error replaces the reply with an error reply carrying Msg.
//
// The client observes an rpc.ServerError whose text is Msg; the connection
// stays usable.
type Error struct {
	Msg string // the error reply's text; not empty
}

func (Error) kind() string   { return "error" }
func (e Error) text() string { return "error=" + quoteIfNeeded(e.Msg) }

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
