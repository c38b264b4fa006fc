package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/cobra"

	"github.com/dlthub/dlthub/internal/mcpserver"
)

type mcpOptions struct {
	Port int
}

func newMCPCmd(f *Factory) *cobra.Command {
	opts := &mcpOptions{}
	cmd := &cobra.Command{
		Use:   "mcp",
		Short: "Serve the workspace's datasets to AI agents over MCP (read-only)",
		Long: `Run an MCP (Model Context Protocol) server over the datasets of this
workspace's pipelines in the active profile, for coding agents and chat
clients. Tools: list_datasets, list_tables, describe_table, preview_table
and query (read-only SQL; DuckDB datasets are opened read-only).

By default it speaks MCP on standard input and output, as clients that
start it expect; with --port it serves streamable HTTP on 127.0.0.1 at /mcp.`,
		Example: `  dlthub mcp                      # configure your agent to run this in the workspace folder
  dlthub --profile prod mcp --port 7801`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Flags().Changed("stdio") && opts.Port != 0 {
				return usagef("--stdio and --port are two ways to serve; give one")
			}
			return runMCP(cmd.Context(), f, opts)
		},
	}
	cmd.Flags().BoolP("stdio", "", true, "speak MCP on standard input and output (the default)")
	cmd.Flags().IntVar(&opts.Port, "port", 0, "serve streamable HTTP on 127.0.0.1:PORT instead")
	return cmd
}

func runMCP(ctx context.Context, f *Factory, opts *mcpOptions) error {
	c, err := f.Open()
	if err != nil {
		return err
	}
	catalog := f.datasetCatalog(c)
	srv := mcpserver.New(f.Version, catalog)
	if opts.Port == 0 {
		fmt.Fprintf(f.IO.ErrOut, "dlthub MCP server on stdio (profile %s)\n", c.profile.Name)
		t := &mcp.IOTransport{Reader: io.NopCloser(f.IO.In), Writer: nopWriteCloser{f.IO.Out}}
		if err := srv.Run(ctx, t); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, io.EOF) {
			return fmt.Errorf("mcp: %w", err)
		}
		return nil
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(opts.Port)))
	if err != nil {
		return usagef("--port %d: %v", opts.Port, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/mcp", mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, nil))
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(f.IO.ErrOut, "dlthub MCP server on http://%s/mcp (profile %s); Ctrl-C stops it\n", ln.Addr(), c.profile.Name)
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx)
	}()
	if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("mcp: %w", err)
	}
	return nil
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }
