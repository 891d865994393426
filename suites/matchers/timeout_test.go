package matchers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/rpc"
	"os"
	"strings"
	"testing"
	"time"
)

// timeoutErr is a net.Error of its own, as another library returns one.
type timeoutErr struct{ timeout bool }

func (e timeoutErr) Error() string   { return "library: timed out?" }
func (e timeoutErr) Timeout() bool   { return e.timeout }
func (e timeoutErr) Temporary() bool { return false }

func TestIsTimeout(t *testing.T) {
	// A real dial timeout, as net.Dialer.DialContext returns it when the
	// dial's own timer fires: "dial tcp …: i/o timeout".
	d := net.Dialer{Timeout: time.Nanosecond}
	_, dialErr := d.DialContext(context.Background(), "tcp", "127.0.0.1:1")
	errMine := errors.New("mine: deadline")
	tests := []struct {
		name string
		err  error
		also []func(error) bool
		want bool
	}{
		{"nil", nil, nil, false},
		{"context.DeadlineExceeded", context.DeadlineExceeded, nil, true},
		{"wrapped context.DeadlineExceeded", fmt.Errorf("call 3: %w", context.DeadlineExceeded), nil, true},
		{"os.ErrDeadlineExceeded", os.ErrDeadlineExceeded, nil, true},
		{"a net.Error with Timeout()", &net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}, nil, true},
		{"another library's timeout", timeoutErr{timeout: true}, nil, true},
		{"another library's other error", timeoutErr{timeout: false}, nil, false},
		{"joined with a timeout", errors.Join(errors.New("x"), context.DeadlineExceeded), nil, true},
		{"context.Canceled", context.Canceled, nil, false},
		{"an error reply that says timeout", rpc.ServerError("timeout"), nil, false},
		{"unrelated", errors.New("connection refused"), nil, false},
		{"taught by also", errMine, []func(error) bool{func(err error) bool { return errors.Is(err, errMine) }}, true},
		{"not taught by also", errors.New("other"), []func(error) bool{func(err error) bool { return errors.Is(err, errMine) }}, false},
	}
	if dialErr != nil {
		tests = append(tests, struct {
			name string
			err  error
			also []func(error) bool
			want bool
		}{"a dial's i/o timeout", dialErr, nil, strings.Contains(dialErr.Error(), "timeout")})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsTimeout(tt.err, tt.also...); got != tt.want {
				t.Errorf("IsTimeout(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestBeATimeoutSays(t *testing.T) {
	tests := []struct {
		actual any
		ok     bool
		says   string
	}{
		{context.DeadlineExceeded, true, ""},
		{nil, false, "reported as a success"},
		{errors.New("boom"), false, `unrelated error, "boom"`},
	}
	for _, tt := range tests {
		m := BeATimeout()
		ok, err := m.Match(tt.actual)
		if err != nil || ok != tt.ok {
			t.Errorf("BeATimeout().Match(%v) = %v, %v; want %v", tt.actual, ok, err, tt.ok)
			continue
		}
		if msg := m.FailureMessage(tt.actual); !tt.ok && (!strings.Contains(msg, tt.says) || !strings.HasPrefix(msg, "Expected a timeout")) {
			t.Errorf("BeATimeout's failure message for %v: %q, want it to start with what was expected and say %q", tt.actual, msg, tt.says)
		}
	}
	if _, err := BeATimeout().Match(42); err == nil {
		t.Error("BeATimeout().Match(42): no error for a non-error")
	}
}
