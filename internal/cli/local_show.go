package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/dlthub/dlthub/internal/dashboard"
)

type localShowOptions struct {
	Port      int
	BasePath  string
	NoBrowser bool
}

func newLocalShowCmd(f *Factory) *cobra.Command {
	opts := &localShowOptions{}
	cmd := &cobra.Command{
		Use:   "show",
		Short: "Open the workspace dashboard: pipelines, tables, row counts, recent loads",
		Long: `Serve the workspace dashboard of the active profile on this machine: each
pipeline with its last run, the tables it loaded with row counts, sizes
(where the destination tells them) and columns, a picture of the rows per
table, and its recent loads (read-only). It shows the pipelines that ran in
this profile and the declared ones (pipelines/*.toml) whose dataset it
finds from configuration.

Every deployed Go workspace runs it as the built-in interactive job
jobs.workspace.dashboard (dlthub serve dashboard), with the access profile,
taking PORT and DLTHUB_BASE_PATH from the launch contract.`,
		Example: `  dlthub local show
  dlthub --profile prod local show --port 8050 --no-browser`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runLocalShow(cmd.Context(), f, opts)
		},
	}
	cmd.Flags().IntVar(&opts.Port, "port", 0, "port to listen on (default PORT, else 5050)")
	cmd.Flags().StringVar(&opts.BasePath, "base-path", "", "path to serve under (default DLTHUB_BASE_PATH, else /)")
	cmd.Flags().BoolVar(&opts.NoBrowser, "no-browser", false, "do not open a browser")
	return cmd
}

func runLocalShow(ctx context.Context, f *Factory, opts *localShowOptions) error {
	c, err := f.Open()
	if err != nil {
		return err
	}
	port, base := opts.Port, opts.BasePath
	if port == 0 {
		if port, err = strconv.Atoi(f.Env.Get("PORT")); err != nil || port <= 0 {
			port = 5050
		}
	}
	if base == "" {
		if base = f.Env.Get("DLTHUB_BASE_PATH"); base == "" {
			base = "/"
		}
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return usagef("port %d: %v", port, err)
	}
	hs := &http.Server{Handler: dashboard.Handler(c.ws.Name(c.resolver), c.profile.Name, base, f.datasetCatalog(c)), ReadHeaderTimeout: 10 * time.Second}
	u := fmt.Sprintf("http://%s%s", ln.Addr(), base)
	fmt.Fprintf(f.IO.ErrOut, "Dashboard of %s (profile %s) on %s; Ctrl-C stops it\n", c.ws.Name(c.resolver), c.profile.Name, u)
	if !opts.NoBrowser && f.IO.CanPrompt() && f.OpenBrowser != nil {
		_ = f.OpenBrowser(u)
	}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx)
	}()
	if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("dashboard: %w", err)
	}
	return nil
}
