package cli

import (
	"fmt"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/dlthub/dlthub/internal/jsonx"
)

func newLocalPipelineSchemaCmd(f *Factory) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "schema NAME",
		Short: "Print a pipeline's schema as YAML or JSON",
		Long: `Print the pipeline's current schema: every table with its columns in order,
data types and hints, in dlt's schema layout.`,
		Example: `  dlthub local pipeline schema github
  dlthub local pipeline schema github --format json`,
		Args: exactArgs("NAME"),
		RunE: func(_ *cobra.Command, args []string) error {
			_, p, err := f.attach(args[0])
			if err != nil {
				return err
			}
			s, err := p.Schema()
			if err != nil {
				return err
			}
			if s == nil {
				return fmt.Errorf("pipeline %q has no schema yet", args[0])
			}
			switch format {
			case "json":
				return writeJSON(f.IO.Out, s)
			case "yaml":
				return writeYAML(f.IO.Out, s)
			}
			return usagef("--format must be yaml or json, not %q", format)
		},
	}
	cmd.Flags().StringVar(&format, "format", "yaml", "output format: yaml or json")
	return cmd
}

// yamlNode converts a parsed JSON value to a YAML node, keeping key order.
func yamlNode(v any) *yaml.Node {
	switch x := v.(type) {
	case *jsonx.Object:
		n := &yaml.Node{Kind: yaml.MappingNode}
		for i, k := range x.Keys {
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, yamlNode(x.Values[i]))
		}
		return n
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		for _, e := range x {
			n.Content = append(n.Content, yamlNode(e))
		}
		return n
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
	case string:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: x}
	default:
		b, _ := jsonx.Append(nil, x)
		n := &yaml.Node{Kind: yaml.ScalarNode, Value: string(b)}
		return n
	}
}
