package jsonx

import (
	"fmt"
	"io"

	"go.yaml.in/yaml/v3"
)

// WriteYAML prints a parsed value (see Parse) as YAML, indented by two,
// objects keeping their key order: dlt's schema and the manifests the CLI
// prints are ordered documents, and a Go map would sort their keys.
func WriteYAML(w io.Writer, v any) error {
	n, err := yamlNode(v)
	if err != nil {
		return err
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return fmt.Errorf("write yaml: %w", err)
	}
	return enc.Close()
}

// yamlNode converts a parsed value to a YAML node. Strings are tagged so a
// string that reads as a number or a boolean stays a string.
func yamlNode(v any) (*yaml.Node, error) {
	switch x := v.(type) {
	case *Object:
		n := &yaml.Node{Kind: yaml.MappingNode}
		for i, k := range x.Keys {
			val, err := yamlNode(x.Values[i])
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, val)
		}
		return n, nil
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		for _, e := range x {
			val, err := yamlNode(e)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, val)
		}
		return n, nil
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, nil
	case string:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: x}, nil
	default:
		b, err := Append(nil, x)
		if err != nil {
			return nil, fmt.Errorf("write yaml: %w", err)
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Value: string(b)}, nil
	}
}
