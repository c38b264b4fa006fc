package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dlthub/dlthub/internal/atomicfile"
	"github.com/dlthub/dlthub/internal/config"
	"github.com/dlthub/dlthub/internal/declarative"
	"github.com/dlthub/dlthub/internal/samples"
	"github.com/dlthub/dlthub/internal/suggest"
	"github.com/dlthub/dlthub/internal/tomledit"
	"github.com/dlthub/dlthub/internal/workspace"
)

type pipelineInitOptions struct {
	Name             string
	Force            bool
	ListSources      bool
	ListDestinations bool
	Declarative      bool
}

// sourceTemplate is what `pipeline init` writes for one source.
type sourceTemplate struct {
	Description string
	// Body is the pipeline file with %[1]s for the destination.
	Body string
	// Files are extra files to write (workspace-relative path → content).
	Files func() map[string][]byte
	// Secrets are keys added empty to [sources.<name>] in secrets.toml.
	Secrets []string
	Next    string
}

func sourceTemplates() map[string]sourceTemplate {
	return map[string]sourceTemplate{
		"filesystem": {
			Description: "files under a local directory: JSONL, JSON, CSV, Parquet",
			Body: `# Declarative pipeline: files → %[1]s. Run: dlthub local pipeline run %[2]s
[pipeline]
destination = "%[1]s"
# dataset_name = "%[2]s_dataset"

[source]
type = "filesystem"
bucket_url = "data"            # a directory, relative to the workspace, or file:///abs/path
file_glob = "**/*.jsonl"       # ** matches any depth
# format = "jsonl"             # jsonl | json | csv | parquet; default from each file's extension
table_name = "%[2]s"
write_disposition = "append"   # append | replace | merge
# primary_key = "id"
# incremental = true           # only files modified since the last run
`,
			Next: "put files under data/ (or change bucket_url), then run it",
		},
		"rest_api": {
			Description: "any REST API: base URL, auth, paginator, resources",
			Body: `# Declarative pipeline: a REST API → %[1]s. Run: dlthub local pipeline run %[2]s
# The shape is dlt's rest_api config. Secrets (token, api_key, password,
# client_secret) go in .dlt/secrets.toml under [sources.%[2]s], never here.
[pipeline]
destination = "%[1]s"

[source]
type = "rest_api"
[source.client]
base_url = "https://api.example.com/v1/"
auth = { type = "bearer" }     # token from sources.%[2]s.token
paginator = "auto"             # json_link, header_link, offset, page_number, cursor, single_page
[source.resource_defaults]
primary_key = "id"
write_disposition = "merge"
[[source.resources]]
name = "items"
endpoint = { path = "items", params = { per_page = 100 } }
`,
			Secrets: []string{"token"},
			Next:    "set base_url and resources, put the token in .dlt/secrets.toml, then run it",
		},
		"sql_database": {
			Description: "tables of a PostgreSQL database, with keys and incremental cursors",
			Body: `# Declarative pipeline: PostgreSQL tables → %[1]s. Run: dlthub local pipeline run %[2]s
# Credentials go in .dlt/secrets.toml:
#   [sources.%[2]s]
#   credentials = "postgresql://loader:password@localhost:5432/shop"
[pipeline]
destination = "%[1]s"

[source]
type = "sql_database"
schema = "public"
# table_names = ["orders", "customers"]   # default: every table of the schema
# Tables with a primary key are merged on it, others appended; override per table:
# [source.tables.orders]
# incremental = { cursor_path = "updated_at" }
# write_disposition = "merge"
`,
			Secrets: []string{"credentials"},
			Next:    "put the connection string in .dlt/secrets.toml, then run it",
		},
		"github": {
			Description: "GitHub issues, their comments, and pull requests of a repository",
			Body: `# Declarative pipeline: GitHub issues, comments and pulls → %[1]s.
# Run: dlthub local pipeline run %[2]s
# Public repositories need no token; for private ones (or higher rate limits)
# uncomment auth and set [sources.%[2]s] token in .dlt/secrets.toml.
[pipeline]
destination = "%[1]s"
dataset_name = "github_data"

[source]
type = "rest_api"
[source.client]
base_url = "https://api.github.com/repos/dlt-hub/dlt/"
paginator = "header_link"
# auth = { type = "bearer" }
[source.resource_defaults]
primary_key = "id"
write_disposition = "merge"
[[source.resources]]
name = "issues"
endpoint = { path = "issues", params = { state = "all", per_page = 100 }, incremental = { start_param = "since", cursor_path = "updated_at", initial_value = "2024-01-01T00:00:00Z" } }
[[source.resources]]
name = "issue_comments"
endpoint = { path = "issues/{resources.issues.number}/comments", params = { per_page = 100 } }
include_from_parent = ["id"]
[[source.resources]]
name = "pulls"
endpoint = { path = "pulls", params = { state = "all", per_page = 100 } }
`,
			Next: "point base_url at your repository, then run it",
		},
		"jsonplaceholder": {
			Description: "posts and their comments from the JSONPlaceholder demo API",
			Body: `# Declarative pipeline: JSONPlaceholder posts and comments → %[1]s.
# Run: dlthub local pipeline run %[2]s
[pipeline]
destination = "%[1]s"

[source]
type = "rest_api"
[source.client]
base_url = "https://jsonplaceholder.typicode.com/"
paginator = "single_page"
[source.resource_defaults]
primary_key = "id"
write_disposition = "replace"
[[source.resources]]
name = "posts"
endpoint = "posts"
[[source.resources]]
name = "comments"
endpoint = "posts/{resources.posts.id}/comments"
include_from_parent = ["id"]
`,
			Next: "run it",
		},
		"pokemon": {
			Description: "Pokémon and berries from PokéAPI (offset pages, json next links)",
			Body: `# Declarative pipeline: PokéAPI → %[1]s. Run: dlthub local pipeline run %[2]s
[pipeline]
destination = "%[1]s"

[source]
type = "rest_api"
[source.client]
base_url = "https://pokeapi.co/api/v2/"
paginator = { type = "json_link", next_url_path = "next" }
[source.resource_defaults]
primary_key = "name"
write_disposition = "replace"
endpoint = { data_selector = "results", params = { limit = 100 } }
[[source.resources]]
name = "pokemon"
[[source.resources]]
name = "berry"
`,
			Next: "run it",
		},
		"github_sample": {
			Description: "a bundled page of 100 real GitHub issues (no network needed)",
			Body: `# Declarative pipeline: a bundled page of GitHub issues → %[1]s.
# Run: dlthub local pipeline run %[2]s
[pipeline]
destination = "%[1]s"
dataset_name = "github_data"

[source]
type = "filesystem"
bucket_url = "data/github_sample"
file_glob = "*.json"
table_name = "issues"
write_disposition = "merge"
primary_key = "id"
`,
			Files: func() map[string][]byte {
				return map[string][]byte{"data/github_sample/issues.json": samples.GitHubIssues()}
			},
			Next: "run it; running it again merges by id and keeps one copy of each issue",
		},
	}
}

func templateOrder() []string {
	return []string{"github_sample", "filesystem", "rest_api", "sql_database", "github", "jsonplaceholder", "pokemon"}
}

func newPipelineInitCmd(f *Factory) *cobra.Command {
	opts := &pipelineInitOptions{}
	cmd := &cobra.Command{
		Use:   "init SOURCE DESTINATION",
		Short: "Write a declarative pipeline for a source and destination",
		Long: `Write pipelines/<SOURCE>.toml (or --name) for a source and a destination, add
the destination's configuration keys that are missing to .dlt/config.toml (a
named destination such as "warehouse" gets destination_type = "duckdb"), and
print the next steps. Nothing that exists is overwritten: an existing
pipeline file needs --force, and existing config keys are kept.

DESTINATION is a type this build loads into (` + strings.Join(config.DestinationTypes(), ", ") + `;
see --list-destinations) or a name of your own. A dlt destination type it
cannot load into (bigquery, snowflake, …) is refused and nothing is written;
so is a name that looks like a mistyped type, unless its destination_type is
configured already.

An unknown SOURCE gets the filesystem template, with a note.

In a Python workspace (pyproject.toml or __deployment__.py) dlt writes the
pipeline: its core sources (rest_api, sql_database, filesystem) and
single-file templates work offline; verified sources come from GitHub.
--declarative writes the TOML pipeline there too.`,
		Example: `  dlthub pipeline init github_sample duckdb
  dlthub pipeline init filesystem warehouse --name events
  dlthub pipeline init --list-sources`,
		Args: func(cmd *cobra.Command, args []string) error {
			if opts.ListSources || opts.ListDestinations {
				return nil
			}
			return exactArgs("SOURCE", "DESTINATION")(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if ws, err := f.Workspace(); err == nil && !opts.Declarative && isPythonProject(ws.Root) {
				return f.pythonPipelineInit(cmd.Context(), ws, opts, args)
			}
			return runPipelineInit(f, opts, args)
		},
	}
	cmd.Flags().BoolVar(&opts.Declarative, "declarative", false, "in a Python workspace, write a TOML pipeline instead of dlt's Python one")
	cmd.Flags().StringVar(&opts.Name, "name", "", "pipeline name (default: the source name)")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "overwrite an existing pipeline file")
	cmd.Flags().BoolVar(&opts.ListSources, "list-sources", false, "list the sources with templates")
	cmd.Flags().BoolVar(&opts.ListDestinations, "list-destinations", false, "list the destination types")
	return cmd
}

func runPipelineInit(f *Factory, opts *pipelineInitOptions, args []string) error {
	tpls := sourceTemplates()
	if opts.ListSources {
		tw := newTable(f.IO.Out)
		fmt.Fprintln(tw, "SOURCE\tDESCRIPTION")
		for _, name := range templateOrder() {
			fmt.Fprintf(tw, "%s\t%s\n", name, tpls[name].Description)
		}
		return tw.Flush()
	}
	if opts.ListDestinations {
		tw := newTable(f.IO.Out)
		fmt.Fprintln(tw, "DESTINATION\tDESCRIPTION")
		for _, d := range config.SupportedDestinations() {
			fmt.Fprintf(tw, "%s\t%s\n", d.Name, d.Description)
		}
		fmt.Fprintln(tw, "<name>\ta named destination: destination.<name>.destination_type in config, per profile (new ones get duckdb)")
		return tw.Flush()
	}
	source, dest := args[0], args[1]
	c, err := f.Open()
	if err != nil {
		return err
	}
	if err := checkInitDestination(c, source, dest); err != nil {
		return err
	}
	tpl, ok := tpls[source]
	if !ok {
		fmt.Fprintf(f.IO.ErrOut, "Note: no template for source %q; writing the filesystem template. Known sources: %s.\n", source, strings.Join(templateOrder(), ", "))
		tpl = tpls["filesystem"]
	}
	name := opts.Name
	if name == "" {
		name = source
	}
	if err := workspace.ValidateProfileName(name); err != nil { // same rule as pipeline names
		return usagef("invalid pipeline name %q: use letters, digits, '-' and '_'", name)
	}
	rel := filepath.ToSlash(filepath.Join(declarative.Dir, name+".toml"))
	path := filepath.Join(c.ws.Root, rel)
	if _, err := os.Stat(path); err == nil && !opts.Force {
		return fmt.Errorf("%s exists; pass --force to overwrite it", rel)
	}
	files := map[string][]byte{rel: []byte(fmt.Sprintf(tpl.Body, dest, name))}
	if tpl.Files != nil {
		for p, b := range tpl.Files() {
			if _, err := os.Stat(filepath.Join(c.ws.Root, p)); errors.Is(err, fs.ErrNotExist) {
				files[p] = b
			}
		}
	}
	for p, b := range files {
		if err := atomicfile.Write(filepath.Join(c.ws.Root, p), b, 0o644); err != nil {
			return describeWrite(fmt.Errorf("write %s: %w", p, err))
		}
		fmt.Fprintf(f.IO.ErrOut, "Wrote %s\n", p)
	}
	for _, k := range tpl.Secrets {
		if added, err := addPlaceholder(c, "secrets.toml", []string{"sources", name, k}); err != nil {
			return err
		} else if added {
			fmt.Fprintf(f.IO.ErrOut, "Added sources.%s.%s = \"\" to %s/secrets.toml: fill it in\n", name, k, c.ws.Folder)
		}
	}
	if added, err := addDestinationConfig(c, dest); err != nil {
		return err
	} else if added != "" {
		fmt.Fprintf(f.IO.ErrOut, "Added %s to %s/config.toml\n", added, c.ws.Folder)
	}
	fmt.Fprintf(f.IO.ErrOut, "Next: %s:\n  dlthub local pipeline run %s\n", tpl.Next, name)
	return nil
}

// checkInitDestination refuses, before anything is written, a destination
// this build cannot load into: a dlt type it lacks (bigquery), a named
// destination configured with such a type, and a name that looks like a
// mistyped type. A new name of one's own (warehouse) is a named destination.
func checkInitDestination(c *wsContext, source, dest string) error {
	types := config.DestinationTypes()
	supported := strings.Join(types, ", ")
	if dest == "" || strings.ContainsAny(dest, " .\"'") {
		return usagef("invalid destination %q: a type (%s) or a name such as warehouse", dest, supported)
	}
	if slices.Contains(types, dest) {
		return nil
	}
	res, err := c.resolver.Lookup(config.Key{Fixed: []string{"destination", dest}, Name: "destination_type"})
	if err != nil {
		return err
	}
	if res.Found {
		if t, ok := res.Value.(string); ok && slices.Contains(types, t) {
			return nil
		}
		return usagef("destination %q has destination_type %v (%s %s), which this build cannot load into; nothing was written. "+
			"Set it to one of %s (dlthub config set destination.%s.destination_type duckdb), or pick another destination",
			dest, res.Value, res.Winner.Provider, res.Winner.KeyName, supported, dest)
	}
	if config.IsUnsupportedDestination(dest) {
		return usagef("destination %q is not supported by this build, which loads into %s; nothing was written. "+
			"Pick one of those (dlthub pipeline init %s duckdb), or a name of your own such as warehouse, which gets destination_type = \"duckdb\" "+
			"in .dlt/config.toml to change per profile; dlthub pipeline init --list-destinations describes them",
			dest, supported, source)
	}
	if s := suggest.Closest(dest, config.AllDestinationTypes()); s != "" && suggest.Distance(dest, s) <= 2 {
		return usagef("unknown destination %q: did you mean %s? Nothing was written. The destination types are %s; "+
			"to use %q as the name of a destination, set its type first: dlthub config set destination.%s.destination_type duckdb",
			dest, s, supported, dest, dest)
	}
	return nil
}

// addDestinationConfig adds destination.<name>.destination_type = "duckdb"
// for a named destination that has no type configured anywhere.
func addDestinationConfig(c *wsContext, dest string) (string, error) {
	if slices.Contains(config.DestinationTypes(), dest) {
		return "", nil
	}
	res, err := c.resolver.Lookup(config.Key{Fixed: []string{"destination", dest}, Name: "destination_type"})
	if err != nil || res.Found {
		return "", err
	}
	path := c.ws.Path("config.toml")
	doc, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	out, err := tomledit.Set(doc, []string{"destination", dest, "destination_type"}, "duckdb")
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	if err := atomicfile.Write(path, out, 0o644); err != nil {
		return "", describeWrite(err)
	}
	return fmt.Sprintf(`destination.%s.destination_type = "duckdb"`, dest), nil
}

// addPlaceholder adds an empty value at path to a workspace file unless the
// configuration already has it.
func addPlaceholder(c *wsContext, file string, path []string) (bool, error) {
	res, err := c.resolver.Lookup(config.Key{Fixed: path[:len(path)-1], Name: path[len(path)-1], Secret: config.IsSecretKey(path[len(path)-1])})
	if err != nil || res.Found {
		return false, err
	}
	p := c.ws.Path(file)
	doc, err := os.ReadFile(p)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	out, err := tomledit.Set(doc, path, "")
	if err != nil {
		return false, fmt.Errorf("%s: %w", p, err)
	}
	return true, describeWrite(atomicfile.Write(p, out, 0o600))
}
