package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// fixture writes files under a temp dir: keys "ws/<name>" go to the
// workspace .dlt, "home/<name>" to ~/.dlt.
func fixture(t *testing.T, files map[string]string) (ws, home string) {
	t.Helper()
	root := t.TempDir()
	ws, home = filepath.Join(root, "ws", ".dlt"), filepath.Join(root, "home", ".dlt")
	for name, body := range files {
		p := filepath.Join(root, filepath.FromSlash(strings.Replace(strings.Replace(name, "ws/", "ws/.dlt/", 1), "home/", "home/.dlt/", 1)))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return ws, home
}

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestLookupOrder(t *testing.T) {
	cases := []struct {
		name     string
		files    map[string]string
		env      map[string]string
		profile  string
		key      string
		pipeline string
		want     any
		wantFrom string // substring of the winning origin
	}{
		{
			name:     "env beats a more specific TOML key",
			files:    map[string]string{"ws/secrets.toml": "[destination.warehouse.credentials]\npassword = \"toml\"\n"},
			env:      map[string]string{"CREDENTIALS__PASSWORD": "env"},
			key:      "destination.warehouse.credentials.password",
			want:     "env",
			wantFrom: "env CREDENTIALS__PASSWORD",
		},
		{
			name:     "more specific path wins within one provider",
			files:    map[string]string{"ws/config.toml": "[destination]\nlog = \"general\"\n[destination.warehouse]\nlog = \"specific\"\n"},
			key:      "destination.warehouse.log",
			want:     "specific",
			wantFrom: "ws/.dlt/config.toml",
		},
		{
			name:     "sections are popped down to the bare key",
			files:    map[string]string{"ws/config.toml": "timeout = 5\n"},
			key:      "sources.github.timeout",
			want:     int64(5),
			wantFrom: "ws/.dlt/config.toml",
		},
		{
			name:     "credentials section is never popped",
			files:    map[string]string{"ws/secrets.toml": "password = \"bare\"\n[credentials]\npassword = \"grouped\"\n"},
			key:      "destination.warehouse.credentials.password",
			want:     "grouped",
			wantFrom: "ws/.dlt/secrets.toml",
		},
		{
			name: "profile file beats workspace file",
			files: map[string]string{
				"ws/config.toml":      "[runtime]\nlog_level = \"WARNING\"\n",
				"ws/prod.config.toml": "[runtime]\nlog_level = \"ERROR\"\n",
			},
			profile:  "prod",
			key:      "runtime.log_level",
			want:     "ERROR",
			wantFrom: "ws/.dlt/prod.config.toml",
		},
		{
			name: "other profiles' files are not read",
			files: map[string]string{
				"ws/config.toml":      "[runtime]\nlog_level = \"WARNING\"\n",
				"ws/prod.config.toml": "[runtime]\nlog_level = \"ERROR\"\n",
			},
			profile:  "dev",
			key:      "runtime.log_level",
			want:     "WARNING",
			wantFrom: "ws/.dlt/config.toml",
		},
		{
			name: "workspace file beats ~/.dlt",
			files: map[string]string{
				"ws/secrets.toml":       "[sources.github]\ntoken = \"workspace\"\n",
				"home/secrets.toml":     "[sources.github]\ntoken = \"global\"\n",
				"home/dev.secrets.toml": "[sources.github]\ntoken = \"global-dev\"\n",
			},
			profile:  "dev",
			key:      "sources.github.token",
			want:     "workspace",
			wantFrom: "ws/.dlt/secrets.toml",
		},
		{
			name: "global profile file beats global file",
			files: map[string]string{
				"home/secrets.toml":     "[sources.github]\ntoken = \"global\"\n",
				"home/dev.secrets.toml": "[sources.github]\ntoken = \"global-dev\"\n",
			},
			profile:  "dev",
			key:      "sources.github.token",
			want:     "global-dev",
			wantFrom: "home/.dlt/dev.secrets.toml",
		},
		{
			name:     "deep merge keeps keys from every file",
			files:    map[string]string{"ws/config.toml": "[sources.github]\nrepo = \"a/b\"\n", "home/config.toml": "[sources.github]\nper_page = 50\n"},
			key:      "sources.github.per_page",
			want:     int64(50),
			wantFrom: "home/.dlt/config.toml",
		},
		{
			name:     "pipeline-prefixed key beats the plain one",
			files:    map[string]string{"ws/config.toml": "[sources.github]\nrepo = \"plain\"\n[my_pipe.sources.github]\nrepo = \"prefixed\"\n"},
			pipeline: "my_pipe",
			key:      "sources.github.repo",
			want:     "prefixed",
			wantFrom: "ws/.dlt/config.toml",
		},
		{
			name:     "pipeline pass runs over all providers first: prefixed TOML beats plain env",
			files:    map[string]string{"ws/config.toml": "[my_pipe.sources.github]\nrepo = \"prefixed\"\n"},
			env:      map[string]string{"SOURCES__GITHUB__REPO": "plain-env"},
			pipeline: "my_pipe",
			key:      "sources.github.repo",
			want:     "prefixed",
		},
		{
			name:     "pipeline env var",
			env:      map[string]string{"MY_PIPE__SOURCES__GITHUB__REPO": "env"},
			pipeline: "my_pipe",
			key:      "sources.github.repo",
			want:     "env",
			wantFrom: "env MY_PIPE__SOURCES__GITHUB__REPO",
		},
		{
			name:     "compact sources form",
			files:    map[string]string{"ws/secrets.toml": "[sources.github]\ntoken = \"compact\"\n[sources]\ntoken = \"general\"\n"},
			key:      "sources.github_module.github.token",
			want:     "compact",
			wantFrom: "ws/.dlt/secrets.toml",
		},
		{
			name:  "module section beats the compact form",
			files: map[string]string{"ws/secrets.toml": "[sources.github]\ntoken = \"compact\"\n[sources.github_module]\ntoken = \"module\"\n"},
			key:   "sources.github_module.github.token",
			want:  "module",
		},
		{
			name:     "compact jobs form",
			env:      map[string]string{"JOBS__GITHUB__LIMIT": "10"},
			key:      "jobs.ingest.github.limit",
			want:     "10",
			wantFrom: "env JOBS__GITHUB__LIMIT",
		},
		{
			name: "env values stay strings until decoded",
			env:  map[string]string{"SOURCES__GITHUB__LABELS": `["bug","docs"]`},
			key:  "sources.github.labels",
			want: `["bug","docs"]`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ws, home := fixture(t, tc.files)
			profile := tc.profile
			if profile == "" {
				profile = "dev"
			}
			r, err := New(Options{ConfigDir: ws, GlobalDir: home, Profile: profile, LookupEnv: envOf(tc.env)})
			if err != nil {
				t.Fatal(err)
			}
			k, err := ParseKey(tc.key)
			if err != nil {
				t.Fatal(err)
			}
			k.Pipeline = tc.pipeline
			res, err := r.Require(k)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(res.Value, tc.want) {
				t.Errorf("value = %#v, want %#v", res.Value, tc.want)
			}
			if tc.wantFrom != "" && !strings.Contains(filepath.ToSlash(res.Winner.Origin), tc.wantFrom) {
				t.Errorf("origin = %q, want it to contain %q", res.Winner.Origin, tc.wantFrom)
			}
		})
	}
}

func TestPathsOrder(t *testing.T) {
	k, _ := ParseKey("sources.mod.github.token")
	var got []string
	for _, p := range k.Paths("pipe") {
		got = append(got, strings.Join(p, "."))
	}
	for _, p := range k.Paths("") {
		got = append(got, strings.Join(p, "."))
	}
	want := []string{
		"pipe.sources.mod.github.token", "pipe.sources.mod.token", "pipe.sources.github.token", "pipe.sources.token", "pipe.token",
		"sources.mod.github.token", "sources.mod.token", "sources.github.token", "sources.token", "token",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("paths:\n got %v\nwant %v", got, want)
	}
	k, _ = ParseKey("destination.warehouse.credentials.password")
	got = nil
	for _, p := range k.Paths("") {
		got = append(got, strings.Join(p, "."))
	}
	want = []string{"destination.warehouse.credentials.password", "destination.credentials.password", "credentials.password"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("paths:\n got %v\nwant %v", got, want)
	}
}

func TestSecretInConfigTomlRefused(t *testing.T) {
	ws, home := fixture(t, map[string]string{"ws/config.toml": "[destination.warehouse.credentials]\npassword = \"oops\"\n"})
	r, err := New(Options{ConfigDir: ws, GlobalDir: home, Profile: "dev", LookupEnv: envOf(nil)})
	if err != nil {
		t.Fatal(err)
	}
	k, _ := ParseKey("destination.warehouse.credentials.password")
	_, err = r.Lookup(k)
	var nse *NotSecretError
	if !errors.As(err, &nse) {
		t.Fatalf("err = %v, want NotSecretError", err)
	}
	msg := err.Error()
	for _, want := range []string{filepath.Join(ws, "config.toml"), "destination.warehouse.credentials.password", "secrets.toml"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not name %q", msg, want)
		}
	}
	// The same secret in secrets.toml shadows the config.toml one: no error.
	ws2, home2 := fixture(t, map[string]string{
		"ws/config.toml":  "[destination.warehouse.credentials]\npassword = \"oops\"\n",
		"ws/secrets.toml": "[destination.warehouse.credentials]\npassword = \"fine\"\n",
	})
	r, _ = New(Options{ConfigDir: ws2, GlobalDir: home2, Profile: "dev", LookupEnv: envOf(nil)})
	res, err := r.Lookup(k)
	if err != nil || res.Value != "fine" {
		t.Errorf("got %v, %v", res.Value, err)
	}
	// Non-secret credential fields may live in config.toml.
	ws3, home3 := fixture(t, map[string]string{"ws/config.toml": "[destination.warehouse.credentials]\nhost = \"db\"\n"})
	r, _ = New(Options{ConfigDir: ws3, GlobalDir: home3, Profile: "dev", LookupEnv: envOf(nil)})
	hk, _ := ParseKey("destination.warehouse.credentials.host")
	if res, err := r.Require(hk); err != nil || res.Value != "db" {
		t.Errorf("host: %v, %v", res.Value, err)
	}
}

func TestRunSecretsFiles(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "destination--warehouse--credentials--password"), []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := &Resolver{Providers: []Provider{&EnvProvider{LookupEnv: envOf(nil), SecretsDir: dir}}}
	k, _ := ParseKey("destination.warehouse.credentials.password")
	res, err := r.Require(k)
	if err != nil || res.Value != "from-file" {
		t.Fatalf("got %v, %v", res.Value, err)
	}
	// Not for values that are not secrets.
	k2, _ := ParseKey("destination.warehouse.credentials.host")
	if err := os.WriteFile(filepath.Join(dir, "destination--warehouse--credentials--host"), []byte("h"), 0o600); err != nil {
		t.Fatal(err)
	}
	if res, _ := r.Lookup(k2); res.Found {
		t.Errorf("non-secret read from /run/secrets")
	}
}

func TestMissingErrorListsEverything(t *testing.T) {
	ws, home := fixture(t, nil)
	r, _ := New(Options{ConfigDir: ws, GlobalDir: home, Profile: "prod", LookupEnv: envOf(nil)})
	k, _ := ParseKey("destination.warehouse.credentials.password")
	k.Pipeline = "pipe"
	_, err := r.Require(k)
	var me *MissingError
	if !errors.As(err, &me) {
		t.Fatalf("err = %v", err)
	}
	msg := err.Error()
	for _, want := range []string{
		`profile "prod"`,
		"PIPE__DESTINATION__WAREHOUSE__CREDENTIALS__PASSWORD",
		"DESTINATION__WAREHOUSE__CREDENTIALS__PASSWORD, DESTINATION__CREDENTIALS__PASSWORD, CREDENTIALS__PASSWORD",
		"secrets.toml (" + filepath.Join(ws, "prod.secrets.toml"),
		filepath.Join(home, "secrets.toml"),
		"credentials.password",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("missing-value error lacks %q:\n%s", want, msg)
		}
	}
}

func TestMalformedTomlNamesFileLineColumn(t *testing.T) {
	ws, home := fixture(t, map[string]string{"ws/config.toml": "[runtime]\nlog_level = \"INFO\"\nbroken = \n"})
	_, err := New(Options{ConfigDir: ws, GlobalDir: home, Profile: "dev", LookupEnv: envOf(nil)})
	var fe *FileError
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v", err)
	}
	if fe.Path != filepath.Join(ws, "config.toml") || fe.Line != 3 || fe.Column == 0 {
		t.Errorf("got %+v", fe)
	}
	if !strings.Contains(err.Error(), filepath.Join(ws, "config.toml")+":3:") {
		t.Errorf("message %q", err)
	}
}

func TestNamedDestinationPerProfile(t *testing.T) {
	files := map[string]string{
		"ws/dev.config.toml":  "[destination.warehouse]\ndestination_type = \"duckdb\"\n",
		"ws/prod.config.toml": "[destination.warehouse]\ndestination_type = \"postgres\"\n",
	}
	ws, home := fixture(t, files)
	for profile, want := range map[string]string{"dev": "duckdb", "prod": "postgres"} {
		r, err := New(Options{ConfigDir: ws, GlobalDir: home, Profile: profile, LookupEnv: envOf(nil)})
		if err != nil {
			t.Fatal(err)
		}
		d, err := r.ResolveDestination("", "warehouse")
		if err != nil {
			t.Fatal(err)
		}
		if d.Type != want || d.Name != "warehouse" {
			t.Errorf("%s: got %+v, want type %s", profile, d, want)
		}
	}
	r, _ := New(Options{ConfigDir: ws, GlobalDir: home, Profile: "dev", LookupEnv: envOf(nil)})
	if d, err := r.ResolveDestination("", "postgres"); err != nil || d.Type != "postgres" {
		t.Errorf("plain type: %+v %v", d, err)
	}
	_, err := r.ResolveDestination("", "lakehouse")
	if !errors.Is(err, ErrUnknownDestination) || !strings.Contains(err.Error(), "destination.lakehouse.destination_type") || !strings.Contains(err.Error(), "duckdb, filesystem, motherduck, postgres") {
		t.Errorf("unknown: %v", err)
	}
	// The environment can retarget a named destination.
	r, _ = New(Options{ConfigDir: ws, GlobalDir: home, Profile: "dev", LookupEnv: envOf(map[string]string{"DESTINATION__WAREHOUSE__DESTINATION_TYPE": "motherduck"})})
	if d, _ := r.ResolveDestination("", "warehouse"); d.Type != "motherduck" {
		t.Errorf("env override: %+v", d)
	}
}

// dlt resolves runtime.* and data_writer.* as a configuration's
// __section__, which it never pops: runtime.log_level is not found at
// log_level, and normalize.data_writer.buffer_max_items falls back to
// data_writer.buffer_max_items, not normalize.buffer_max_items (found by
// the dltcompat configuration harness).
func TestSpecSectionsAreNeverPopped(t *testing.T) {
	paths := func(key, pipeline string) []string {
		k, err := ParseKey(key)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, p := range k.Paths(pipeline) {
			out = append(out, strings.Join(p, "."))
		}
		return out
	}
	for _, tc := range []struct {
		key, pipeline string
		want          []string
	}{
		{"runtime.log_level", "", []string{"runtime.log_level"}},
		{"runtime.log_level", "pipe", []string{"pipe.runtime.log_level"}},
		{"workspace.runtime.log_level", "", []string{"workspace.runtime.log_level", "runtime.log_level"}},
		{"normalize.data_writer.buffer_max_items", "", []string{"normalize.data_writer.buffer_max_items", "data_writer.buffer_max_items"}},
		{"sources.github.runtime_limit", "", []string{"sources.github.runtime_limit", "sources.runtime_limit", "runtime_limit"}},
	} {
		if got := paths(tc.key, tc.pipeline); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s [%s]: paths\n got %v\nwant %v", tc.key, tc.pipeline, got, tc.want)
		}
	}
	r := &Resolver{Providers: []Provider{&EnvProvider{LookupEnv: envOf(map[string]string{"LOG_LEVEL": "DEBUG"})}}}
	k, _ := ParseKey("runtime.log_level")
	if res, _ := r.Lookup(k); res.Found {
		t.Errorf("runtime.log_level found at LOG_LEVEL (%v): dlt never looks there", res.Value)
	}
}

// dlt's compact layout applies to three sections or more, and is not
// tried twice when module and source have one name (found by the
// dltcompat configuration harness).
func TestCompactLayoutPaths(t *testing.T) {
	for _, tc := range []struct {
		key  string
		want []string
	}{
		{"sources.github.github.token", []string{"sources.github.github.token", "sources.github.token", "sources.token", "token"}},
		{"sources.mod.github.res.token", []string{"sources.mod.github.res.token", "sources.mod.github.token", "sources.github.token", "sources.mod.token", "sources.token", "token"}},
		{"jobs.batch.daily.limit", []string{"jobs.batch.daily.limit", "jobs.batch.limit", "jobs.daily.limit", "jobs.limit", "limit"}},
		{"sources.mod.github.credentials.password", []string{"sources.mod.github.credentials.password", "sources.mod.credentials.password", "sources.github.credentials.password", "sources.credentials.password", "credentials.password"}},
	} {
		k, _ := ParseKey(tc.key)
		var got []string
		for _, p := range k.Paths("") {
			got = append(got, strings.Join(p, "."))
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: paths\n got %v\nwant %v", tc.key, got, tc.want)
		}
	}
}

// As in dlt, a secret's file beats its environment variable, and a
// directory of the secret's name holds the file (Kubernetes mounts each
// secret so); found by the dltcompat configuration harness.
func TestSecretFileBeatsEnvAndKubernetesLayout(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "destination--pg--credentials--password"), []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	k8s := filepath.Join(dir, "sources--github--access-token")
	if err := os.MkdirAll(k8s, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(k8s, "sources--github--access-token"), []byte("from-k8s"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "sources--github--api-key")
	if err := os.MkdirAll(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"DESTINATION__PG__CREDENTIALS__PASSWORD": "from-env", "SOURCES__GITHUB__API_KEY": "env-key"}
	r := &Resolver{Providers: []Provider{&EnvProvider{LookupEnv: envOf(env), SecretsDir: dir}}}
	for key, want := range map[string]string{
		"destination.pg.credentials.password": "from-file",
		"sources.github.access_token":         "from-k8s",
		"sources.github.api_key":              "env-key", // a directory without the file: on to the environment
	} {
		k, _ := ParseKey(key)
		res, err := r.Require(k)
		if err != nil || res.Value != want {
			t.Errorf("%s = %v (%v), want %q", key, res.Value, err, want)
		}
		if res.Winner.KeyName != EnvName(append(append(k.Sections, k.Fixed...), k.Name)) {
			t.Errorf("%s: looked up as %s", key, res.Winner.KeyName)
		}
	}
}

// A table merged from several files comes, as dlt says, from the last of
// them (found by the dltcompat configuration harness); a leaf still comes
// from the file that set it.
func TestMergedTableOrigin(t *testing.T) {
	ws, home := fixture(t, map[string]string{
		"ws/config.toml":   "[sources.github]\nrepo = \"ws\"\n",
		"home/config.toml": "[sources.github]\nper_page = 5\n[sources.other]\nx = 1\n",
	})
	r, err := New(Options{ConfigDir: ws, GlobalDir: home, Profile: "dev", LookupEnv: envOf(nil)})
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{
		"sources.github":      filepath.Join(home, "config.toml"),
		"sources.github.repo": filepath.Join(ws, "config.toml"),
		"sources.other":       filepath.Join(home, "config.toml"),
	} {
		k, _ := ParseKey(key)
		res, err := r.Require(k)
		if err != nil || res.Winner.Origin != want {
			t.Errorf("%s: origin %q (%v), want %q", key, res.Winner.Origin, err, want)
		}
	}
}

// Empty tells a provider with no value from one with some: dlt skips the
// former in its lookups, and the harness compares traces without them.
func TestTomlProviderEmpty(t *testing.T) {
	ws, home := fixture(t, map[string]string{"ws/config.toml": "", "home/secrets.toml": "[a]\nb = 1\n"})
	r, err := New(Options{ConfigDir: ws, GlobalDir: home, Profile: "dev", LookupEnv: envOf(nil)})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range r.Providers {
		if tp, ok := p.(*TomlProvider); ok && tp.Empty() != (tp.Name() == ConfigProviderName) {
			t.Errorf("%s: Empty() = %v", tp.Name(), tp.Empty())
		}
	}
}

// A file saved with Windows line ends reads as dlt reads it (Python's
// universal newlines): a multi-line string has "\n" line breaks, not
// "\r\n" (found by the dltcompat configuration harness).
func TestWindowsLineEndsReadAsDltReadsThem(t *testing.T) {
	ws, home := fixture(t, map[string]string{"ws/config.toml": "[sources.github]\r\nbody = \"\"\"\r\nmulti\r\nline\"\"\"\r\nlit = '''\r\na\r\nb'''\r\n"})
	r, err := New(Options{ConfigDir: ws, GlobalDir: home, Profile: "dev", LookupEnv: envOf(nil)})
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{"sources.github.body": "multi\nline", "sources.github.lit": "a\nb"} {
		k, _ := ParseKey(key)
		if res, err := r.Require(k); err != nil || res.Value != want {
			t.Errorf("%s = %q (%v), want %q", key, res.Value, err, want)
		}
	}
}

// Variable and secret file names are upper- and lower-cased as Python
// does (full case mapping), so a key dlt looks up as GRÖSSE is looked up
// so here too (found by the dltcompat configuration harness).
func TestEnvNamesCaseAsPython(t *testing.T) {
	for path, want := range map[string][2]string{
		"sources.github.größe":  {"SOURCES__GITHUB__GRÖSSE", "sources--github--grösse"},
		"sources.github.ﬁle":    {"SOURCES__GITHUB__FILE", "sources--github--file"},
		"runtime.log_level":     {"RUNTIME__LOG_LEVEL", "runtime--log-level"},
		"sources.İstanbul.café": {"SOURCES__İSTANBUL__CAFÉ", "sources--i̇stanbul--café"},
	} {
		p := strings.Split(path, ".")
		if got := EnvName(p); got != want[0] {
			t.Errorf("EnvName(%s) = %s, want %s", path, got, want[0])
		}
		if got := SecretFileName(p); got != want[1] {
			t.Errorf("SecretFileName(%s) = %s, want %s", path, got, want[1])
		}
	}
}
