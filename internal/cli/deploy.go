package cli

import (
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/dlthub/dlthub/internal/jobs"
)

type deployOptions struct {
	ShowManifest bool
	File         string
	Format       string
}

func newDeployCmd(f *Factory) *cobra.Command {
	opts := &deployOptions{}
	cmd := &cobra.Command{
		Use:   "deploy",
		Short: "Validate the job manifest and show what would be deployed",
		Long: `Validate dlthub.toml and, with --show-manifest, print the expanded manifest:
every job with its default trigger, the implicit manual: and tag: triggers,
human descriptions of the triggers, execution defaults and a content hash per
job and for the whole manifest. Validation errors name the job and the key.

Uploading to a dlthub server comes with the control plane; until then deploy
only validates and shows.`,
		Example: `  dlthub deploy --show-manifest
  dlthub deploy --show-manifest --format json --file jobs/dlthub.toml`,
		Args: noArgs,
		RunE: func(_ *cobra.Command, _ []string) error { return runDeploy(f, opts) },
	}
	cmd.Flags().BoolVar(&opts.ShowManifest, "show-manifest", false, "print the expanded manifest")
	cmd.Flags().StringVar(&opts.File, "file", jobs.DefaultFile, "manifest file, relative to the workspace root")
	cmd.Flags().StringVar(&opts.Format, "format", "yaml", "yaml or json")
	return cmd
}

func runDeploy(f *Factory, opts *deployOptions) error {
	ws, err := f.Workspace()
	if err != nil {
		return err
	}
	path := opts.File
	if !filepath.IsAbs(path) {
		path = filepath.Join(ws.Root, path)
	}
	m, err := jobs.Load(path, filepath.ToSlash(ws.Rel(path)))
	if err != nil {
		return err
	}
	if !opts.ShowManifest {
		return usagef("%s is valid (%d jobs). Deploying needs a dlthub server, which this build does not have yet; --show-manifest prints what would be deployed", opts.File, len(m.Jobs))
	}
	e := m.Expand()
	switch opts.Format {
	case "json":
		return writeJSON(f.IO.Out, e)
	case "yaml":
		return writeYAML(f.IO.Out, e)
	}
	return usagef("--format must be yaml or json, not %q", opts.Format)
}
