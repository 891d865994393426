package matchers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"

	"github.com/onsi/gomega/types"
)

// IsTimeout reports whether err says an operation ran out of time, as Go
// reports it: an error matching context.DeadlineExceeded or
// os.ErrDeadlineExceeded (a dial or read past its deadline: "i/o
// timeout"), or a net.Error, or any error with a Timeout() bool method,
// whose Timeout() is true; or one that a function of also accepts (another
// RPC system's timeout, such as a gRPC status with code DeadlineExceeded).
func IsTimeout(err error, also ...func(error) bool) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	var t interface{ Timeout() bool }
	if errors.As(err, &t) && t.Timeout() {
		return true
	}
	for _, is := range also {
		if is(err) {
			return true
		}
	}
	return false
}

// BeATimeout succeeds if actual is an error that IsTimeout(actual,
// also...) accepts. A nil error (a timeout reported as success) and an
// unrelated error fail it, with a message that names what came instead.
func BeATimeout(also ...func(error) bool) types.GomegaMatcher {
	const want = "a timeout (an error matching context.DeadlineExceeded or os.ErrDeadlineExceeded, or a net.Error whose Timeout() is true)"
	return &matcher{want: want, match: func(actual any) (bool, string, string, error) {
		if actual == nil {
			return false, "it was no error at all: the call was reported as a success", "", nil
		}
		err, ok := actual.(error)
		if !ok {
			return false, "", "", fmt.Errorf("matchers: BeATimeout needs an error, got %T", actual)
		}
		if IsTimeout(err, also...) {
			return true, fmt.Sprintf("it was one: %v", err), "", nil
		}
		return false, fmt.Sprintf("it was an unrelated error, %q (%T)", err, err), "", nil
	}}
}
