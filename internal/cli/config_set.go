package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dlthub/dlthub/internal/atomicfile"
	"github.com/dlthub/dlthub/internal/config"
	"github.com/dlthub/dlthub/internal/tomledit"
	"github.com/dlthub/dlthub/internal/workspace"
)

type configSetOptions struct {
	Secret bool
	String bool
}

func newConfigSetCmd(f *Factory) *cobra.Command {
	opts := &configSetOptions{}
	cmd := &cobra.Command{
		Use:   "set KEY VALUE",
		Short: "Write a value to the right config or secrets file",
		Long: `Write KEY = VALUE into .dlt/config.toml, or .dlt/secrets.toml with --secret.
With --profile P the profile's file is written instead (.dlt/P.config.toml or
.dlt/P.secrets.toml). Only the target line changes: comments, blank lines and
key order are kept; a new key joins its table, a new table is appended.

VALUE is read as a TOML value when it is one (5432, true, 1.5, [1, 2],
"quoted"), otherwise as a string; --string always takes it as a string.
Keys that look like secrets (password, token, api_key, credentials, …) need
--secret, so they never land in a committed file.`,
		Example: `  dlthub config set runtime.log_level INFO
  dlthub config set --profile prod destination.warehouse.destination_type postgres
  dlthub config set --secret sources.github.token ghp_xxx
  dlthub config set --string sources.shop.zip 01234`,
		Args: exactArgs("KEY", "VALUE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runConfigSet(f, opts, cmd.Flags().Changed("profile"), args[0], args[1])
		},
	}
	cmd.Flags().BoolVar(&opts.Secret, "secret", false, "write to secrets.toml instead of config.toml")
	cmd.Flags().BoolVar(&opts.String, "string", false, "take VALUE as a string even if it looks like a number or boolean")
	return cmd
}

func runConfigSet(f *Factory, opts *configSetOptions, profileGiven bool, key, raw string) error {
	k, err := config.ParseKey(key)
	if err != nil {
		return usageErr(err)
	}
	if k.Secret && !opts.Secret {
		return usagef("%s looks like a secret; add --secret to write it to secrets.toml (config.toml is committed to git)", key)
	}
	ws, err := f.Workspace()
	if err != nil {
		return err
	}
	kind := "config"
	if opts.Secret {
		kind = "secrets"
	}
	name := kind + ".toml"
	if profileGiven {
		if err := workspace.ValidateProfileName(f.ProfileFlag); err != nil {
			return usageErr(err)
		}
		name = f.ProfileFlag + "." + name
	}
	path := ws.Path(name)
	var value any = raw
	if !opts.String {
		value = tomledit.ParseValue(raw)
	}
	doc, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("read %s: %w", path, err)
	}
	// Read before writing: the key set now is not "known" yet.
	warning := unknownSectionWarning(f.setKeys(ws), pipelineNames(ws), k.String(), filepath.ToSlash(ws.Rel(path)))
	parts := strings.Split(k.String(), ".")
	out, err := tomledit.Set(doc, parts, value)
	if err != nil {
		return tomlEditErr(path, fmt.Sprintf("set %s in %s", key, path), err)
	}
	rel := filepath.ToSlash(ws.Rel(path))
	if string(out) == string(doc) {
		fmt.Fprintf(f.IO.ErrOut, "%s already has %s set to that value.\n", rel, key)
		return nil
	}
	if err := atomicfile.Write(path, out, 0o644); err != nil {
		return describeWrite(fmt.Errorf("write %s: %w", rel, err))
	}
	if opts.Secret {
		fmt.Fprintf(f.IO.ErrOut, "Set %s in %s.\n", key, rel)
	} else {
		fmt.Fprintf(f.IO.ErrOut, "Set %s = %s in %s.\n", key, formatValue(value), rel)
	}
	if warning != "" {
		f.warn(warning)
	}
	return nil
}
