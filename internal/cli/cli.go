// Package cli holds what the rpcfleet command and fleet/serve share about
// a command line: usage errors, which exit with 2, and running a cobra
// command to an exit code.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// UsageError marks an error in the command line itself; it exits with 2.
type UsageError struct{ Err error }

func (e UsageError) Error() string { return e.Err.Error() }
func (e UsageError) Unwrap() error { return e.Err }

// Usagef formats a UsageError.
func Usagef(format string, args ...any) error {
	return UsageError{fmt.Errorf(format, args...)}
}

// NoArgs is cobra.NoArgs reported as a usage error.
func NoArgs(cmd *cobra.Command, args []string) error {
	if err := cobra.NoArgs(cmd, args); err != nil {
		return UsageError{err}
	}
	return nil
}

// ExitCode is an error whose message was printed already: a command that
// ran another to completion returns its exit code so.
type ExitCode int

func (c ExitCode) Error() string { return fmt.Sprintf("exit status %d", int(c)) }

// Execute runs root with args and returns the exit code: 0 on success; 2
// on a usage error (a flag, an argument, an unknown command), printed as
// "prog: error" and a line naming --help; 1 on any other error, printed
// as "prog: error"; an ExitCode as it is, printing nothing.
func Execute(ctx context.Context, root *cobra.Command, prog string, args []string, stdout, stderr io.Writer) int {
	root.SilenceUsage = true
	root.SilenceErrors = true
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return UsageError{err} })
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	var code ExitCode
	if errors.As(err, &code) {
		return int(code)
	}
	fmt.Fprintf(stderr, "%s: %v\n", prog, err)
	var ue UsageError
	if errors.As(err, &ue) || isUnknownCommand(err) {
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
		return 2
	}
	return 1
}

// isUnknownCommand recognises cobra's "unknown command" error, which it
// does not type.
func isUnknownCommand(err error) bool {
	return strings.HasPrefix(err.Error(), "unknown command")
}
