package cli

import (
	"context"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/dlthub/dlthub/internal/store"
)

// serverStoreOptions find the control plane's database, as `dlthub
// server` does.
type serverStoreOptions struct {
	DataDir     string
	DatabaseURL string
}

func (o *serverStoreOptions) flags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.DataDir, "data-dir", "", "the server's data directory (default ~/.dlthub/server)")
	cmd.Flags().StringVar(&o.DatabaseURL, "database-url", "", "the server's PostgreSQL URL (or "+databaseURLEnv+")")
}

// open opens the server's store; it must be there already.
func (o *serverStoreOptions) open(ctx context.Context, f *Factory) (store.Store, error) {
	dataDir, dbURL := o.DataDir, o.DatabaseURL
	if dataDir == "" {
		dataDir = filepath.Join(f.Env.Home, ".dlthub", "server")
	}
	if dbURL == "" {
		dbURL = f.Env.Get(databaseURLEnv)
	}
	if dbURL == "" {
		if _, err := os.Stat(filepath.Join(dataDir, "dlthub.db")); err != nil {
			return nil, usagef("no server database in %s: pass the server's --data-dir (or --database-url)", dataDir)
		}
	}
	return openServerStore(ctx, dataDir, dbURL)
}

func newServerWorkerCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Manage the credentials of workers on other machines",
		Long: `Workers on other machines authenticate to the control plane with a worker
credential instead of holding its database URL, bucket or master key
(secrets.key). Run these on the control plane's machine, against its
--data-dir or --database-url; then start each worker with
  DLTHUB_WORKER_TOKEN=dlw_… dlthub server --roles worker --control-plane URL`,
		Args: noArgs,
	}
	cmd.AddCommand(newServerWorkerCreateCmd(f), newServerWorkerListCmd(f), newServerWorkerRevokeCmd(f))
	return cmd
}
