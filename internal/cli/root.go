package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dlthub/dlthub/internal/suggest"
)

// NewRootCmd builds the whole command tree.
func NewRootCmd(f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "dlthub",
		Short: "Data pipelines from a folder to production",
		Long: `dlthub turns a folder into a dlt data-pipeline workspace: layered TOML
configuration and secrets compatible with Python dlt, profiles for dev, tests
and prod, and pipelines that load into DuckDB, Postgres and files.`,
		Example: `  dlthub init                      # make this folder a workspace
  dlthub profile list              # see the profiles and which one is active
  dlthub config explain destination.warehouse.credentials.password
  dlthub --profile prod local info -v`,
		Version:       f.Version,
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRun: func(_ *cobra.Command, _ []string) {
			f.IO.NonInteractive = f.NonInteractive
		},
	}
	root.SetVersionTemplate("dlthub {{.Version}}\n")
	pf := root.PersistentFlags()
	pf.BoolVarP(&f.Verbose, "verbose", "v", false, "show more detail")
	pf.BoolVar(&f.NonInteractive, "non-interactive", false, "never prompt; fail with the choices listed instead")
	pf.BoolVarP(&f.Yes, "yes", "y", false, "answer yes to confirmations")
	pf.StringVar(&f.ProfileFlag, "profile", "", "use this profile instead of the pinned one (dev, tests, prod, access or custom)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErr(err) })

	root.AddGroup(&cobra.Group{ID: "workspace", Title: "Workspace:"})
	root.AddGroup(&cobra.Group{ID: "jobs", Title: "Jobs:"})
	for _, c := range []*cobra.Command{newDeployCmd(f), newRunCmd(f), newServeCmd(f), newJobCmd(f)} {
		c.GroupID = "jobs"
		root.AddCommand(c)
	}
	root.AddGroup(&cobra.Group{ID: "platform", Title: "Control plane:"})
	for _, c := range []*cobra.Command{newServerCmd(f), newLoginCmd(f), newLogoutCmd(f), newWorkspaceCmd(f), newVariableCmd(f)} {
		c.GroupID = "platform"
		root.AddCommand(c)
	}
	for _, c := range []*cobra.Command{
		newInitCmd(f, nil),
		newProfileCmd(f),
		newConfigCmd(f),
		newPipelineCmd(f),
		newLocalCmd(f),
		newMCPCmd(f),
	} {
		c.GroupID = "workspace"
		root.AddCommand(c)
	}
	strictGroups(root)
	return root
}

// strictGroups makes every command that only groups others (job, config,
// local pipeline, …) refuse an unknown subcommand with exit 2 and a "did
// you mean", where cobra would print the help and exit 0; without
// arguments they still print their help.
func strictGroups(cmd *cobra.Command) {
	for _, c := range cmd.Commands() {
		strictGroups(c)
	}
	if !cmd.HasSubCommands() || cmd.Run != nil || cmd.RunE != nil || !cmd.HasParent() {
		return
	}
	cmd.Args = cobra.ArbitraryArgs
	cmd.RunE = func(c *cobra.Command, args []string) error {
		if len(args) == 0 {
			return c.Help()
		}
		var names []string
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() {
				names = append(names, sub.Name())
				names = append(names, sub.Aliases...)
			}
		}
		msg := fmt.Sprintf("unknown command %q for %q", args[0], c.CommandPath())
		if s := suggest.Closest(args[0], names); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		return usagef("%s", msg)
	}
}

// Run executes the command line and returns the exit code, printing errors
// (without stack traces) to stderr.
func Run(ctx context.Context, f *Factory, args []string) int {
	root := NewRootCmd(f)
	root.SetArgs(args)
	root.SetIn(f.IO.In)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var s errSilent
	if !errors.As(err, &s) {
		fmt.Fprintln(f.IO.ErrOut, "Error: "+err.Error())
		if ExitCode(err) == ExitUsage {
			fmt.Fprintln(f.IO.ErrOut, "Run 'dlthub --help' or add --help to the command for usage.")
		}
	}
	return ExitCode(err)
}

// noArgs is cobra.NoArgs with a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%q takes no arguments, got %q", cmd.CommandPath(), args)
	}
	return nil
}

// exactArgs is cobra.ExactArgs with a usage error naming the arguments.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != len(names) {
			return usagef("%q needs %d argument(s): %v, got %d", cmd.CommandPath(), len(names), names, len(args))
		}
		return nil
	}
}

// rangeArgs accepts min to max arguments (max < 0: no upper bound); what
// says what the command takes, for the usage error.
func rangeArgs(min, max int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < min || (max >= 0 && len(args) > max) {
			return usagef("%q takes %s, got %d argument(s)", cmd.CommandPath(), what, len(args))
		}
		return nil
	}
}
