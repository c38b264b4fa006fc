package cli

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/spf13/cobra"

	"github.com/dlthub/dlthub/internal/server"
	"github.com/dlthub/dlthub/internal/store"
)

// workerCredName is what a worker credential may be called.
var workerCredName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

func newServerWorkerCreateCmd(f *Factory) *cobra.Command {
	opts := &serverStoreOptions{}
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Make a worker credential (its token is shown once)",
		Long: `Make a credential for a worker on another machine and print its token
once; only its hash is kept. Give it to the worker in DLTHUB_WORKER_TOKEN.
Runs the worker claims are recorded as NAME/HOST:PID.`,
		Example: `  dlthub server worker create build-box-1
  dlthub server worker create gpu-1 --database-url postgres://dlthub@db/dlthub`,
		Args: exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if !workerCredName.MatchString(name) {
				return usagef("worker name %q: letters, digits, '.', '_' and '-', at most 63", name)
			}
			st, err := opts.open(cmd.Context(), f)
			if err != nil {
				return err
			}
			defer func() { _ = st.Close() }()
			token, err := server.CreateWorkerCredential(cmd.Context(), st, name, time.Now())
			if errors.Is(err, store.ErrConflict) {
				return usagef("a worker credential named %s exists already: pick another name, or revoke it first (dlthub server worker revoke %s)", name, name)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(f.IO.ErrOut, "Worker credential %s made. Its token (shown once):\n", name)
			fmt.Fprintln(f.IO.Out, token)
			fmt.Fprintf(f.IO.ErrOut, "Start the worker with:\n  %s=%s dlthub server --roles worker --control-plane URL\n", workerTokenEnv, "<token>")
			return nil
		},
	}
	opts.flags(cmd)
	return cmd
}
