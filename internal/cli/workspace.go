package cli

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dlthub/dlthub/internal/atomicfile"
	"github.com/dlthub/dlthub/internal/platform"
	"github.com/dlthub/dlthub/internal/tomledit"
)

func newWorkspaceCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "workspace",
		Short: "Connect this folder to a remote workspace on the control plane",
		Long: `A remote workspace lives on the control plane (dltHub or your own
dlthub server) and receives what dlthub deploy sends. One repository binds to
one remote workspace; connect writes runtime.workspace_id and, once,
runtime.organization_id to .dlt/config.toml.`,
		Example: `  dlthub workspace list
  dlthub workspace connect analytics
  dlthub workspace info --json`,
		Args: noArgs,
	}
	cmd.AddCommand(newWorkspaceListCmd(f), newWorkspaceConnectCmd(f), newWorkspaceInfoCmd(f), newWorkspaceShowCmd(f), newWorkspaceDeploymentCmd(f), newWorkspaceConfigurationCmd(f))
	return cmd
}

// apiClient returns a client with the caller's token, or an error that says
// how to log in.
func (f *Factory) apiClient() (*platform.Client, runtimeSettings, error) {
	rs, err := f.runtimeSettings()
	if err != nil {
		return nil, rs, err
	}
	if rs.Token == "" && rs.LoggedInTo != "" {
		return nil, rs, &AuthError{Err: fmt.Errorf("not logged in to %s (your login is for %s): run `dlthub login` to log in to %s", rs.BaseURL, rs.LoggedInTo, rs.BaseURL)}
	}
	if rs.Token == "" {
		return nil, rs, &AuthError{Err: fmt.Errorf("not logged in to %s: run `dlthub login` (in CI, set RUNTIME__API_KEY)", rs.BaseURL)}
	}
	return platform.New(rs.BaseURL, rs.Token), rs, nil
}

// apiErr marks a rejected token as an authentication error (exit code 4)
// and names where the token came from.
func apiErr(rs runtimeSettings, err error) error {
	if errors.Is(err, platform.ErrUnauthorized) {
		return &AuthError{Err: fmt.Errorf("%s rejected the token (%s): %w", rs.BaseURL, rs.TokenOrigin, err)}
	}
	return err
}

// setWorkspaceConfig writes keys under [runtime] in the workspace's
// .dlt/config.toml, keeping comments and everything else.
func setWorkspaceConfig(c *wsContext, values [][2]string) error {
	path := c.ws.Path("config.toml")
	doc, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("read %s: %w", path, err)
	}
	out := doc
	for _, kv := range values {
		out, err = tomledit.Set(out, []string{"runtime", kv[0]}, kv[1])
		if err != nil {
			return tomlEditErr(path, fmt.Sprintf("set runtime.%s in %s", kv[0], path), err)
		}
	}
	if string(out) == string(doc) {
		return nil
	}
	return describeWrite(atomicfile.Write(path, out, 0o644))
}

// connectedWorkspaceID is runtime.workspace_id of the workspace ("" when
// not connected).
func connectedWorkspaceID(c *wsContext) (string, error) {
	v, _, err := lookupString(c.resolver, "runtime.workspace_id")
	return v, err
}

func workspaceLabel(w platform.Workspace) string {
	return w.Organization + "/" + w.Name
}

// groupByOrg lists workspaces under their organization's name.
func groupByOrg(ws []platform.Workspace, each func(i int, w platform.Workspace) string) string {
	var b strings.Builder
	org := "\x00"
	for i, w := range ws {
		if w.OrganizationID != org {
			org = w.OrganizationID
			fmt.Fprintf(&b, "%s (%s)\n", w.Organization, w.OrganizationID)
		}
		b.WriteString("  " + each(i, w) + "\n")
	}
	return b.String()
}
