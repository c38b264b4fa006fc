package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dlthub/dlthub/internal/config"
)

func newConfigCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Read, explain and write configuration and secrets",
		Long: `Configuration is looked up like Python dlt does it: environment variables,
then the secrets.toml files, then the config.toml files, each being the merge
of .dlt/<profile>.<kind>.toml, .dlt/<kind>.toml, ~/.dlt/<profile>.<kind>.toml
and ~/.dlt/<kind>.toml (earlier wins). Sections are popped from the right for
less specific keys, and a pipeline name, when given, is tried first as the
outermost section.

KEY is dotted: destination.warehouse.credentials.password. Its environment
variable is DESTINATION__WAREHOUSE__CREDENTIALS__PASSWORD.`,
		Args: noArgs,
	}
	cmd.AddCommand(newConfigGetCmd(f), newConfigExplainCmd(f), newConfigSetCmd(f))
	return cmd
}

// formatValue prints scalars as they are and lists and tables as JSON.
func formatValue(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case map[string]any, []any:
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Sprint(x)
		}
		return string(b)
	default:
		return fmt.Sprint(x)
	}
}

func parseKeyArg(s string, pipeline string) (config.Key, error) {
	k, err := config.ParseKey(s)
	if err != nil {
		return k, usageErr(err)
	}
	k.Pipeline = pipeline
	return k, nil
}
