package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dlthub/dlthub/internal/config"
)

type configExplainOptions struct {
	Pipeline    string
	ShowSecrets bool
	JSON        bool
}

type explainRow struct {
	Order    int    `json:"order"`
	Provider string `json:"provider"`
	Lookup   string `json:"lookup"`
	Found    bool   `json:"found"`
	Used     bool   `json:"used"`
	Refused  bool   `json:"refused,omitempty"`
	Value    any    `json:"value,omitempty"`
	Origin   string `json:"origin,omitempty"`
}

func newConfigExplainCmd(f *Factory) *cobra.Command {
	opts := &configExplainOptions{}
	cmd := &cobra.Command{
		Use:   "explain KEY",
		Short: "Show every place a key is looked up, and which one wins",
		Long: `List, in lookup order, every provider and key tried for KEY, which ones hold
a value, and which one wins (later values are shadowed). Secret values are
shown as **** unless --show-secrets.`,
		Example: `  dlthub config explain destination.warehouse.credentials.password
  dlthub config explain --pipeline github sources.github.token --show-secrets`,
		Args: exactArgs("KEY"),
		RunE: func(_ *cobra.Command, args []string) error { return runConfigExplain(f, opts, args[0]) },
	}
	cmd.Flags().StringVar(&opts.Pipeline, "pipeline", "", "pipeline name, tried first as the outermost section")
	cmd.Flags().BoolVar(&opts.ShowSecrets, "show-secrets", false, "show secret values")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print as JSON")
	return cmd
}

func runConfigExplain(f *Factory, opts *configExplainOptions, key string) error {
	k, err := parseKeyArg(key, opts.Pipeline)
	if err != nil {
		return err
	}
	c, err := f.Open()
	if err != nil {
		return err
	}
	res, lookupErr := c.resolver.Explain(k)
	show := func(v any) any {
		if k.Secret && !opts.ShowSecrets {
			return config.Redact(v)
		}
		return v
	}
	var rows []explainRow
	for i, t := range res.Traces {
		row := explainRow{Order: i + 1, Provider: t.Provider, Lookup: t.KeyName, Found: t.Found, Refused: t.Refused}
		if t.Found {
			row.Value, row.Origin = show(t.Value), c.display(f, t.Origin)
			row.Used = res.Found && lookupErr == nil && t.Provider == res.Winner.Provider && t.KeyName == res.Winner.KeyName
		}
		rows = append(rows, row)
	}
	if opts.JSON {
		out := map[string]any{"key": k.String(), "secret": k.Secret, "profile": c.profile.Name, "found": res.Found, "lookups": rows}
		if res.Found {
			out["value"] = show(res.Value)
		}
		if lookupErr != nil {
			out["error"] = lookupErr.Error()
		}
		return writeJSON(f.IO.Out, out)
	}
	kind := ""
	if k.Secret {
		kind = " (secret)"
	}
	fmt.Fprintf(f.IO.Out, "Key:      %s%s\n", k, kind)
	fmt.Fprintf(f.IO.Out, "Profile:  %s\n", profileLabel(c.profile))
	fmt.Fprintln(f.IO.Out, "Lookups, in order:")
	tw := newTable(f.IO.Out)
	for _, r := range rows {
		result := "-"
		switch {
		case r.Refused:
			result = "refused: secrets may not be in config.toml (" + r.Origin + ")"
		case r.Used:
			result = fmt.Sprintf("%s  <- used (%s)", formatValue(r.Value), r.Origin)
		case r.Found:
			result = fmt.Sprintf("%s  (shadowed, %s)", formatValue(r.Value), r.Origin)
		}
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\n", r.Order, r.Provider, r.Lookup, result)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	switch {
	case lookupErr != nil:
		return lookupErr
	case res.Found:
		fmt.Fprintf(f.IO.Out, "Value:    %s from %s (%s)\n", formatValue(show(res.Value)), res.Winner.Provider, c.display(f, res.Winner.Origin))
	default:
		fmt.Fprintln(f.IO.Out, "Value:    not set")
	}
	return nil
}
