package cli_test

import (
	"strings"
	"testing"

	"github.com/dlthub/dlthub/internal/cli"
)

// TestTypoSuggestions: a mistyped --profile, a config key set outside any
// known section, and a missing key on get each name the closest known one.
func TestTypoSuggestions(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		args []string
		code int
		want []string
		not  []string
	}{
		{"profile typo", []string{"--profile", "prdo", "profile", "info"}, cli.ExitOK,
			[]string{`Warning: no configuration for profile "prdo"; did you mean prod? (there is no .dlt/prdo.config.toml or prdo.secrets.toml, so only the shared files apply)`}, nil},
		{"profile far from any", []string{"--profile", "production", "config", "get", "runtime.log_level"}, cli.ExitOK,
			[]string{`no configuration for profile "production"; the profiles are dev, tests, prod, access, nightly`}, nil},
		{"built-in profile without files", []string{"--profile", "tests", "profile", "info"}, cli.ExitOK, nil, []string{"Warning"}},
		{"custom profile with files", []string{"--profile", "nightly", "profile", "info"}, cli.ExitOK, nil, []string{"Warning"}},
		{"pinned profiles are not checked", []string{"profile", "use", "prdo"}, cli.ExitOK, nil, []string{"did you mean"}},
		{"get of a mistyped key", []string{"config", "get", "runtime.log_levl"}, cli.ExitError,
			[]string{"missing value for runtime.log_levl", "did you mean runtime.log_level? It is set in .dlt/config.toml"}, nil},
		{"get of a key only another profile has", []string{"config", "get", "destination.warehouse.destination_type"}, cli.ExitError,
			[]string{`destination.warehouse.destination_type is set in .dlt/prod.config.toml, which profile "dev" does not read: add --profile prod`}, nil},
		{"get of a secret's mistyped key", []string{"config", "get", "sources.github.tokn"}, cli.ExitError,
			[]string{"did you mean sources.github.token? It is set in .dlt/secrets.toml"}, []string{"ghp_"}},
		{"get with nothing close", []string{"config", "get", "nothing.here"}, cli.ExitError, []string{"missing value for nothing.here"}, []string{"did you mean"}},
		{"set in a mistyped section", []string{"config", "set", "runtim.log_level", "INFO"}, cli.ExitOK,
			[]string{"Set runtim.log_level = INFO in .dlt/config.toml.", "Warning: runtim.log_level is in no section dlt reads (runtime, destination, sources, pipelines, normalize, load, extract",
				"did you mean runtime.log_level? It is set anyway: if that was a typo, remove it from .dlt/config.toml."}, nil},
		{"set of a new key in a mistyped section", []string{"config", "set", "sorces.shop.zip", "1"}, cli.ExitOK,
			[]string{"did you mean sources.shop.zip?"}, nil},
		{"set of a well-known key in a mistyped section", []string{"config", "set", "normalise.workers", "3"}, cli.ExitOK,
			[]string{"did you mean normalize.workers?"}, nil},
		{"set in a known section", []string{"config", "set", "sources.shop.zip", "1"}, cli.ExitOK, nil, []string{"Warning"}},
		{"set in a section the workspace has", []string{"config", "set", "gh.sources.github.per_page", "5"}, cli.ExitOK, nil, []string{"Warning"}},
		{"set in a pipeline's section", []string{"config", "set", "events.sources.x.y", "5"}, cli.ExitOK, nil, []string{"Warning"}},
		{"set of a bare key", []string{"config", "set", "log_level", "INFO"}, cli.ExitOK, nil, []string{"Warning"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			writeFile(t, dir, ".dlt/.workspace", "")
			writeFile(t, dir, ".dlt/config.toml", "[runtime]\nlog_level = \"WARNING\"\n\n[sources.github]\nrepo = \"dlt-hub/dlt\"\n\n[gh.sources.github]\nrepo = \"x\"\n")
			writeFile(t, dir, ".dlt/secrets.toml", "[sources.github]\ntoken = \"ghp_secret\"\n")
			writeFile(t, dir, ".dlt/prod.config.toml", "[destination.warehouse]\ndestination_type = \"postgres\"\n")
			writeFile(t, dir, ".dlt/nightly.secrets.toml", "")
			writeFile(t, dir, "pipelines/events.toml", "")
			code, _, stderr := runInProcess(t, dir, nil, false, "", tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d:\n%s", code, tc.code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(stderr, n) {
					t.Errorf("stderr has %q:\n%s", n, stderr)
				}
			}
		})
	}
}
