package main

import (
	"github.com/spf13/cobra"

	"github.com/rpcfleet/rpcfleet/fleet/serve"
	"github.com/rpcfleet/rpcfleet/internal/cli"
)

// serveCmd is `rpcfleet serve`: package fleet/serve, which parses its own
// flags (and prints its own help and errors).
func serveCmd() *cobra.Command {
	return &cobra.Command{
		Use:                "serve",
		Short:              "Serve a fleet of net/rpc servers on 127.0.0.1 until SIGINT or SIGTERM",
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if code := serve.Run(cmd.Context(), args, cmd.OutOrStdout(), cmd.ErrOrStderr()); code != 0 {
				return cli.ExitCode(code)
			}
			return nil
		},
	}
}
