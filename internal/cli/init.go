package cli

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/dlthub/dlthub/internal/workspace"
)

// InitOptions are the inputs of `dlthub init`.
type InitOptions struct {
	Name   string
	Force  bool
	DryRun bool
	JSON   bool
}

func newInitCmd(f *Factory, runF func(*InitOptions) error) *cobra.Command {
	opts := &InitOptions{}
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Make the current folder a dlthub workspace",
		Long: `Make the current folder (or DLT_PROJECT_DIR) a dlthub workspace: the
.dlt/.workspace marker, .dlt/config.toml with [runtime] and
[workspace.settings] name, .dlt/secrets.toml, and .gitignore entries.

Init prints a plan with [CREATE], [KEEP], [UPDATE] and [CONFLICT] per file.
It never overwrites config.toml or secrets.toml, not even with --force, and
only appends missing lines to an existing .gitignore. Running it in an
existing dlt project converts it; running it twice changes nothing.`,
		Example: `  dlthub init
  dlthub init --name analytics --dry-run
  DLT_PROJECT_DIR=/srv/pipelines dlthub init`,
		Args: noArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runInit(f, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Name, "name", "", "workspace name (default: the folder's name)")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "proceed past conflicts, leaving conflicting files as they are")
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "print the plan and write nothing")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the plan as JSON")
	return cmd
}

func runInit(f *Factory, opts *InitOptions) error {
	dir := f.Env.Cwd
	if d := f.Env.Get("DLT_PROJECT_DIR"); d != "" {
		dir = d
		if !filepath.IsAbs(d) {
			dir = filepath.Join(f.Env.Cwd, d)
		}
	}
	plan, err := workspace.PlanInit(workspace.InitOptions{Dir: dir, Folder: f.Env.ConfigFolder(), Name: opts.Name})
	if err != nil {
		return err
	}
	if opts.JSON {
		if err := writeJSON(f.IO.Out, plan); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(f.IO.Out, "Workspace %q in %s\n", plan.Name, plan.Root)
		tw := newTable(f.IO.Out)
		for _, it := range plan.Items {
			fmt.Fprintf(tw, "[%s]\t%s\t%s\n", it.Action, it.Path, it.Detail)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if opts.DryRun {
		fmt.Fprintln(f.IO.ErrOut, "Dry run: nothing was written.")
		return nil
	}
	if err := plan.Apply(opts.Force); err != nil {
		return err
	}
	if n, _ := plan.Conflicts(); n > 0 {
		fmt.Fprintf(f.IO.ErrOut, "Workspace ready, with %d conflicting file(s) left as they were.\n", n)
	} else {
		fmt.Fprintln(f.IO.ErrOut, "Workspace ready.")
	}
	fmt.Fprintln(f.IO.ErrOut, "Next: `dlthub profile list` to see profiles, `dlthub local info` for where things live.")
	return nil
}
