package main

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/rpcfleet/rpcfleet/internal/cli"
)

// run executes the command line args and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := &cobra.Command{
		Use:   "rpcfleet",
		Short: "Fleets of net/rpc servers with injected faults, for testing fan-out callers",
	}
	root.AddCommand(serveCmd(), demoCmd(), versionCmd())
	root.AddCommand(experimentCmds()...)
	return cli.Execute(ctx, root, "rpcfleet", args, stdout, stderr)
}

func versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cli.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			v := "(devel)"
			if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
				v = bi.Main.Version
			}
			fmt.Fprintln(cmd.OutOrStdout(), "rpcfleet", v)
		},
	}
}
