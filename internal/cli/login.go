package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/oauth2"

	"github.com/dlthub/dlthub/internal/platform"
	"github.com/dlthub/dlthub/internal/tomledit"
)

type loginOptions struct {
	Resume    string
	NoBrowser bool
}

// resumeInterval is the polling interval for --resume, where the server's
// own interval is no longer known; slow_down answers lengthen it.
const resumeInterval = 5 * time.Second

func newLoginCmd(f *Factory) *cobra.Command {
	opts := &loginOptions{}
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Log in to the control plane with a code approved in your browser",
		Long: `Log in with the OAuth 2.0 device flow: dlthub prints a code and a URL,
you open the URL in any browser (on any machine), sign in and approve the
code, and dlthub picks up the token. On a terminal dlthub opens the
approval page in your browser (--no-browser to skip); elsewhere it only
prints the URL. The token is kept in your global
~/.dlt/secrets.toml as runtime.auth_token, never in the workspace, with
runtime.auth_base_url naming the server it is for: it is never sent to
another one.

The server is runtime.api_base_url (default https://api.dlthub.com); point
it at your own with RUNTIME__API_BASE_URL or
` + "`dlthub config set runtime.api_base_url URL`" + `. For CI, skip login and set
RUNTIME__API_KEY to an API key instead.

If waiting is interrupted, finish later with --resume and the device code
printed at the start.`,
		Example: `  dlthub login
  RUNTIME__API_BASE_URL=http://127.0.0.1:8765 dlthub login
  dlthub login --resume 4f1c…`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runLogin(cmd.Context(), f, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Resume, "resume", "", "finish a login started earlier, with its device code")
	cmd.Flags().BoolVar(&opts.NoBrowser, "no-browser", false, "print the URL but do not open a browser")
	return cmd
}

func runLogin(ctx context.Context, f *Factory, opts *loginOptions) error {
	rs, err := f.runtimeSettings()
	if err != nil {
		return err
	}
	c := platform.New(rs.BaseURL, "")
	var da *oauth2.DeviceAuthResponse
	if opts.Resume != "" {
		da = &oauth2.DeviceAuthResponse{DeviceCode: opts.Resume, Interval: int64(resumeInterval.Seconds())}
		fmt.Fprintf(f.IO.ErrOut, "Waiting for the login at %s to be approved…\n", rs.BaseURL)
	} else {
		da, err = c.StartDeviceLogin(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(f.IO.ErrOut, "To log in to %s, open\n\n  %s\n\nand enter the code  %s\n", rs.BaseURL, da.VerificationURI, da.UserCode)
		if da.VerificationURIComplete != "" {
			fmt.Fprintf(f.IO.ErrOut, "(or open %s)\n", da.VerificationURIComplete)
		}
		if !opts.NoBrowser {
			f.openApprovalPage(da)
		}
		fmt.Fprintf(f.IO.ErrOut, "\nWaiting for approval (expires %s). If this is interrupted, finish with:\n  dlthub login --resume %s\n",
			da.Expiry.Local().Format("15:04"), da.DeviceCode)
	}
	tok, err := c.WaitDeviceLogin(ctx, da)
	if err != nil {
		return err
	}
	c.Token = tok
	me, err := c.Me(ctx)
	if err != nil {
		return fmt.Errorf("the server issued a token but does not accept it: %w", err)
	}
	path, err := f.editGlobalSecrets(func(doc []byte) ([]byte, error) {
		doc, err := tomledit.Set(doc, []string{"runtime", "auth_token"}, tok)
		if err != nil {
			return nil, err
		}
		// The issuer, so the token is never sent to another server.
		return tomledit.Set(doc, []string{"runtime", "auth_base_url"}, strings.TrimSuffix(rs.BaseURL, "/"))
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(f.IO.ErrOut, "%s Logged in to %s as %s. The token is in %s.\n", mark(true), rs.BaseURL, me.Email, displayHome(f, path))
	return nil
}

// openApprovalPage opens the approval page with the code filled in, on a
// terminal only: a script, CI job or ssh session never gets a browser
// started by itself. A browser that fails to open is not an error; the URL
// is printed already.
func (f *Factory) openApprovalPage(da *oauth2.DeviceAuthResponse) {
	if !f.IO.CanPrompt() || f.OpenBrowser == nil {
		return
	}
	u := da.VerificationURIComplete
	if u == "" {
		u = da.VerificationURI
	}
	if err := f.OpenBrowser(u); err != nil {
		f.warn(browserFailure(err))
		return
	}
	fmt.Fprintln(f.IO.ErrOut, "(opened it in your browser)")
}
