package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlthub/dlthub/internal/cli"
	"github.com/dlthub/dlthub/internal/config"
)

// TestPipelineInitDestinations: a destination this build cannot load into
// is a usage error naming the supported ones, and nothing is written; a
// supported type or a name of one's own is accepted.
func TestPipelineInitDestinations(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, dest string
		config     string // .dlt/config.toml before
		code       int
		want       []string
		typeAdded  bool // destination.<dest>.destination_type = "duckdb" added
	}{
		{name: "unsupported dlt type", dest: "bigquery", code: cli.ExitUsage, want: []string{
			`destination "bigquery" is not supported by this build, which loads into duckdb, filesystem, motherduck, postgres; nothing was written`,
			"dlthub pipeline init rest_api duckdb", "--list-destinations"}},
		{name: "another unsupported type", dest: "snowflake", code: cli.ExitUsage, want: []string{`destination "snowflake" is not supported`}},
		{name: "mistyped type", dest: "postgress", code: cli.ExitUsage, want: []string{
			`unknown destination "postgress": did you mean postgres?`, "dlthub config set destination.postgress.destination_type duckdb"}},
		{name: "configured with an unsupported type", dest: "lake", config: "[destination.lake]\ndestination_type = \"bigquery\"\n", code: cli.ExitUsage,
			want: []string{`destination "lake" has destination_type bigquery (config.toml destination.lake.destination_type)`}},
		{name: "mistyped but configured", dest: "duck", config: "[destination.duck]\ndestination_type = \"duckdb\"\n", code: cli.ExitOK},
		{name: "supported type", dest: "postgres", code: cli.ExitOK},
		{name: "motherduck", dest: "motherduck", code: cli.ExitOK},
		{name: "a name of one's own", dest: "warehouse", code: cli.ExitOK, typeAdded: true, want: []string{`Added destination.warehouse.destination_type = "duckdb"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if err := os.MkdirAll(filepath.Join(dir, ".dlt"), 0o755); err != nil {
				t.Fatal(err)
			}
			writeFile(t, dir, ".dlt/.workspace", "")
			writeFile(t, dir, ".dlt/config.toml", tc.config)
			code, _, stderr := runInProcess(t, dir, nil, false, "", "pipeline", "init", "rest_api", tc.dest)
			if code != tc.code {
				t.Fatalf("exit %d, want %d:\n%s", code, tc.code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			_, err := os.Stat(filepath.Join(dir, "pipelines", "rest_api.toml"))
			if written := err == nil; written != (tc.code == cli.ExitOK) {
				t.Errorf("pipeline file written: %v, exit %d", written, code)
			}
			if _, err := os.Stat(filepath.Join(dir, ".dlt", "secrets.toml")); tc.code != cli.ExitOK && err == nil {
				t.Errorf("secrets.toml written on a refusal")
			}
			cfg, _ := os.ReadFile(filepath.Join(dir, ".dlt", "config.toml"))
			if added := string(cfg) != tc.config; added != tc.typeAdded {
				t.Errorf("config.toml changed: %v:\n%s", added, cfg)
			}
		})
	}
}

// TestListDestinationsListsEverySupportedType: --list-destinations shows
// each type the engine loads into, from the same list the checks use, and
// nothing it cannot load into.
func TestListDestinationsListsEverySupportedType(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir, ".dlt/.workspace", "")
	code, out, stderr := runInProcess(t, dir, nil, false, "", "pipeline", "init", "--list-destinations")
	if code != 0 {
		t.Fatalf("%d %s", code, stderr)
	}
	for _, d := range []string{"duckdb", "filesystem", "motherduck", "postgres"} {
		if !strings.Contains(out, "\n"+d+" ") {
			t.Errorf("no %s:\n%s", d, out)
		}
	}
	if len(config.DestinationTypes()) != 4 || strings.Contains(out, "bigquery") {
		t.Errorf("types %v, listing:\n%s", config.DestinationTypes(), out)
	}
}
