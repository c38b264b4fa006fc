package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dlthub/dlthub/internal/config"
)

type configGetOptions struct {
	Pipeline string
	JSON     bool
}

func newConfigGetCmd(f *Factory) *cobra.Command {
	opts := &configGetOptions{}
	cmd := &cobra.Command{
		Use:   "get KEY",
		Short: "Print the value a key resolves to",
		Long: `Print the value KEY resolves to for the active profile. Lists and tables
print as JSON. A missing key fails with every provider and key that was tried.
Secrets are printed: this is how scripts read them. Use 'config explain' to
see where a value comes from without showing it.`,
		Example: `  dlthub config get runtime.log_level
  dlthub config get --pipeline github sources.github.repo
  dlthub --profile prod config get destination.warehouse.destination_type --json`,
		Args: exactArgs("KEY"),
		RunE: func(_ *cobra.Command, args []string) error { return runConfigGet(f, opts, args[0]) },
	}
	cmd.Flags().StringVar(&opts.Pipeline, "pipeline", "", "pipeline name, tried first as the outermost section")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print key, value, provider and origin as JSON")
	return cmd
}

func runConfigGet(f *Factory, opts *configGetOptions, key string) error {
	k, err := parseKeyArg(key, opts.Pipeline)
	if err != nil {
		return err
	}
	c, err := f.Open()
	if err != nil {
		return err
	}
	res, err := c.resolver.Require(k)
	var missing *config.MissingError
	if errors.As(err, &missing) {
		if hint := missingKeyHint(f.setKeys(c.ws), k.String(), c.profile.Name); hint != "" {
			return fmt.Errorf("%w\n%s", err, hint)
		}
	}
	if err != nil {
		return err
	}
	if opts.JSON {
		return writeJSON(f.IO.Out, map[string]any{
			"key":      k.String(),
			"value":    res.Value,
			"provider": res.Winner.Provider,
			"lookup":   res.Winner.KeyName,
			"origin":   c.display(f, res.Winner.Origin),
			"secret":   k.Secret,
			"profile":  c.profile.Name,
		})
	}
	fmt.Fprintln(f.IO.Out, formatValue(res.Value))
	return nil
}
