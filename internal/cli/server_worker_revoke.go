package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/dlthub/dlthub/internal/store"
)

func newServerWorkerRevokeCmd(f *Factory) *cobra.Command {
	opts := &serverStoreOptions{}
	cmd := &cobra.Command{
		Use:   "revoke NAME",
		Short: "Revoke a worker credential",
		Long: `Revoke a worker credential: the worker's next call is refused, and the
runs it held are failed by the scheduler once their heartbeats stop.`,
		Example: `  dlthub server worker revoke build-box-1`,
		Args:    exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := opts.open(cmd.Context(), f)
			if err != nil {
				return err
			}
			defer func() { _ = st.Close() }()
			if err := st.RevokeWorkerCredential(cmd.Context(), args[0], time.Now()); errors.Is(err, store.ErrNotFound) {
				return usagef("no active worker credential named %s (dlthub server worker list shows them)", args[0])
			} else if err != nil {
				return err
			}
			fmt.Fprintf(f.IO.ErrOut, "Worker credential %s revoked.\n", args[0])
			return nil
		},
	}
	opts.flags(cmd)
	return cmd
}
