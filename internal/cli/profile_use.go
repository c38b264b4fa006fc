package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dlthub/dlthub/internal/workspace"
)

func newProfileUseCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "use NAME",
		Short: "Pin a profile for this workspace",
		Long: `Pin NAME as the workspace's profile by writing .dlt/profile-name (which git
ignores). --profile and WORKSPACE__PROFILE still win over the pin. Any name is
accepted; a profile without files of its own is reported as not configured.`,
		Example: `  dlthub profile use prod
  dlthub local profile use dev`,
		Args: exactArgs("NAME"),
		RunE: func(_ *cobra.Command, args []string) error { return runProfileUse(f, args[0]) },
	}
}

func runProfileUse(f *Factory, name string) error {
	if err := workspace.ValidateProfileName(name); err != nil {
		return usageErr(err)
	}
	ws, err := f.Workspace()
	if err != nil {
		return err
	}
	if err := ws.Pin(name); err != nil {
		return describeWrite(err)
	}
	fmt.Fprintf(f.IO.ErrOut, "Pinned profile %q in %s/profile-name.\n", name, ws.Folder)
	if !ws.HasProfileFiles(name) {
		fmt.Fprintf(f.IO.ErrOut, "Note: profile %q is not configured yet: create %s/%s.config.toml or %s/%s.secrets.toml for its values.\n", name, ws.Folder, name, ws.Folder, name)
	}
	if v := f.Env.Get("WORKSPACE__PROFILE"); v != "" && v != name {
		f.warn(fmt.Sprintf("WORKSPACE__PROFILE=%s is set and wins over the pinned profile", v))
	}
	return nil
}
