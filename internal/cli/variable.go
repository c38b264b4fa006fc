package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dlthub/dlthub/internal/platform"
)

func newVariableCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "variable",
		Short: "Set environment variables for runs on the control plane",
		Long: `Variables are environment variables every run of the connected workspace
gets: for the whole workspace (--workspace, the default) or
for runs of one profile (--profile P, which wins over the workspace's).
As environment variables they override the deployed TOML, e.g.
DESTINATION__WAREHOUSE__CREDENTIALS__PASSWORD. Secret ones (--secret) are
encrypted on the server, never shown again and masked in run logs.`,
		Example: `  dlthub variable set LOG_LEVEL WARNING
  echo "$TOKEN" | dlthub variable set SOURCES__GITHUB__TOKEN --secret --profile prod
  dlthub variable list
  dlthub variable delete LOG_LEVEL`,
		Args: noArgs,
	}
	cmd.AddCommand(newVariableListCmd(f), newVariableSetCmd(f), newVariableDeleteCmd(f))
	return cmd
}

// variableScope is the profile a variable command acts on: "" for the
// whole workspace.
func variableScope(f *Factory, workspace bool) (string, error) {
	if workspace && f.ProfileFlag != "" {
		return "", usagef("--workspace and --profile name different scopes; give one")
	}
	return f.ProfileFlag, nil
}

func newVariableListCmd(f *Factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List the variables (secret values are never shown)",
		Example: `  dlthub variable list --json`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := f.deployTarget()
			if err != nil {
				return err
			}
			vs, err := t.c.Variables(cmd.Context(), t.wsID)
			if err != nil {
				return apiErr(t.rs, err)
			}
			if asJSON {
				if vs == nil {
					vs = []platform.Variable{}
				}
				return writeJSON(f.IO.Out, vs)
			}
			if len(vs) == 0 {
				fmt.Fprintln(f.IO.ErrOut, "No variables: set one with `dlthub variable set NAME VALUE`.")
				return nil
			}
			tb := newTable(f.IO.Out)
			fmt.Fprintln(tb, "NAME\tFOR\tVALUE\tUPDATED")
			for _, v := range vs {
				scope, value := "workspace", v.Value
				if v.Profile != "" {
					scope = "profile " + v.Profile
				}
				if v.Secret {
					value = "(secret)"
				}
				fmt.Fprintf(tb, "%s\t%s\t%s\t%s\n", v.Name, scope, value, v.UpdatedAt.Local().Format("2006-01-02 15:04"))
			}
			return tb.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newVariableSetCmd(f *Factory) *cobra.Command {
	var secret, plain, workspace bool
	cmd := &cobra.Command{
		Use:   "set NAME [VALUE]",
		Short: "Set a variable; without VALUE it is read from standard input",
		Example: `  dlthub variable set LOG_LEVEL WARNING
  dlthub variable set DESTINATION__WAREHOUSE__CREDENTIALS__PASSWORD --secret --profile prod < password.txt`,
		Args: rangeArgs(1, 2, "a name and optionally a value"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if secret && plain {
				return usagef("--secret and --plain exclude each other")
			}
			profile, err := variableScope(f, workspace)
			if err != nil {
				return err
			}
			var value string
			if len(args) == 2 {
				value = args[1]
				if secret {
					f.warn("the value is on the command line (and in your shell history); pipe it in instead")
				}
			} else {
				if f.IO.CanPrompt() {
					fmt.Fprintf(f.IO.ErrOut, "Value for %s (end with Ctrl-D): ", args[0])
				}
				b, err := io.ReadAll(io.LimitReader(f.IO.In, 1<<20))
				if err != nil {
					return fmt.Errorf("read the value: %w", err)
				}
				value = strings.TrimRight(string(b), "\r\n")
			}
			t, err := f.deployTarget()
			if err != nil {
				return err
			}
			v, err := t.c.SetVariable(cmd.Context(), t.wsID, args[0], value, profile, secret)
			if err != nil {
				return apiErr(t.rs, err)
			}
			scope := "the workspace"
			if v.Profile != "" {
				scope = "profile " + v.Profile
			}
			kind := "plain"
			if v.Secret {
				kind = "secret"
			}
			fmt.Fprintf(f.IO.ErrOut, "%s %s is set for %s (%s); runs from now on get it.\n", mark(true), v.Name, scope, kind)
			return nil
		},
	}
	cmd.Flags().BoolVar(&secret, "secret", false, "write-only: encrypted on the server, masked in logs")
	cmd.Flags().BoolVar(&plain, "plain", false, "a plain variable, shown by list (the default)")
	cmd.Flags().BoolVar(&workspace, "workspace", false, "for every run of the workspace (the default; --profile P for one profile)")
	return cmd
}

func newVariableDeleteCmd(f *Factory) *cobra.Command {
	var workspace bool
	cmd := &cobra.Command{
		Use:     "delete NAME",
		Short:   "Delete a variable",
		Example: `  dlthub variable delete LOG_LEVEL --profile prod`,
		Args:    exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			profile, err := variableScope(f, workspace)
			if err != nil {
				return err
			}
			t, err := f.deployTarget()
			if err != nil {
				return err
			}
			if err := t.c.DeleteVariable(cmd.Context(), t.wsID, args[0], profile); err != nil {
				return apiErr(t.rs, err)
			}
			fmt.Fprintf(f.IO.ErrOut, "%s %s deleted.\n", mark(true), args[0])
			return nil
		},
	}
	cmd.Flags().BoolVar(&workspace, "workspace", false, "the workspace-wide variable (the default)")
	return cmd
}
