package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/dlthub/dlthub/internal/platform"
	"github.com/dlthub/dlthub/internal/tomledit"
)

func newLogoutCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "logout",
		Short: "Revoke the login token and remove it from ~/.dlt/secrets.toml",
		Long: `Revoke the login token on the server (when it can be reached) and remove
runtime.auth_token (and runtime.auth_base_url) from your global
~/.dlt/secrets.toml. Everything else in
that file stays as it is. API keys set with RUNTIME__API_KEY are not touched.`,
		Example: `  dlthub logout`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runLogout(cmd.Context(), f)
		},
	}
}

func runLogout(ctx context.Context, f *Factory) error {
	path, err := f.globalSecretsPath()
	if err != nil {
		return err
	}
	doc, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("read %s: %w", path, err)
	}
	tok, err := readTOMLString(doc, "runtime", "auth_token")
	if err != nil {
		return fmt.Errorf("%s: %w; fix the file and run the command again", path, err)
	}
	if tok == "" {
		fmt.Fprintln(f.IO.ErrOut, "Not logged in.")
		return nil
	}
	rs, err := f.runtimeSettings()
	if err != nil {
		return err
	}
	issuer, _ := readTOMLString(doc, "runtime", "auth_base_url")
	if issuer != "" {
		rs.BaseURL = issuer
	}
	// Revoke first, but never let an unreachable server keep the token on
	// disk: logging out must always work.
	if ok, err := platform.New(rs.BaseURL, tok).Revoke(ctx); err != nil {
		f.warn(fmt.Sprintf("could not revoke the token on %s (%v); it stays valid there until it expires", rs.BaseURL, err))
	} else if !ok {
		f.warn(rs.BaseURL + " has no revocation endpoint; the token stays valid there until it expires")
	}
	if _, err := f.editGlobalSecrets(func(doc []byte) ([]byte, error) {
		for _, key := range []string{"auth_token", "auth_base_url"} {
			var err error
			if doc, _, err = tomledit.Delete(doc, []string{"runtime", key}); err != nil {
				return nil, err
			}
		}
		return doc, nil
	}); err != nil {
		return err
	}
	fmt.Fprintf(f.IO.ErrOut, "%s Logged out of %s; removed the token from %s.\n", mark(true), rs.BaseURL, displayHome(f, path))
	return nil
}
