package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// tomlSeeds are documents from this package's tests and the shapes a
// workspace's .dlt files take.
func tomlSeeds() []string {
	return []string{
		"[destination.warehouse.credentials]\npassword = \"toml\"\n",
		"[destination]\nlog = \"general\"\n[destination.warehouse]\nlog = \"specific\"\n",
		"[runtime]\nlog_level = \"INFO\"\nbroken = \n",
		"[destination.warehouse]\ndestination_type = \"duckdb\"\n",
		"[sources.github]\nrepo = \"dlt-hub/dlt\"\nclient.timeout = 30\nlabels = [\"bug\", \"help wanted\"]\n",
		"[jobs.ingest.github]\nstart = 2024-01-01T00:00:00Z\nday = 2024-01-01\nat = 07:30:00\nratio = 0.5\nbig = inf\n",
		"pipe.destination.credentials = { password = \"x\", port = 5432 }\n",
		"[[resources]]\nname = \"a\"\n[[resources]]\nname = \"b\"\n",
		"a = \"\"\"\nmulti\nline\"\"\"\nb = 'lit'\n",
		"",
	}
}

// leaves calls fn for every non-table value of a parsed document with its
// path.
func leaves(m map[string]any, prefix []string, fn func(path []string, v any)) {
	for k, v := range m {
		p := append(append([]string{}, prefix...), k)
		if sub, ok := v.(map[string]any); ok {
			leaves(sub, p, fn)
			continue
		}
		fn(p, v)
	}
}

// sameValue is reflect.DeepEqual that also takes NaN as equal to itself.
func sameValue(a, b any) bool {
	return reflect.DeepEqual(a, b) || fmt.Sprintf("%#v", a) == fmt.Sprintf("%#v", b)
}

// FuzzParseTOML holds for any bytes in a workspace's secrets.toml: parsing
// either fails with a *FileError that names the file and a position inside
// the document, or succeeds; then the layered resolver (workspace file over
// the global one) finds every value of the workspace file at its own path,
// from that file, and every value of the global file that the workspace
// does not shadow, from the global file.
func FuzzParseTOML(f *testing.F) {
	seeds := tomlSeeds()
	for i, s := range seeds {
		f.Add(s, seeds[(i+1)%len(seeds)])
	}
	f.Fuzz(func(t *testing.T, ws, global string) {
		const name = "/ws/.dlt/secrets.toml"
		doc, err := ParseTOML(name, []byte(ws))
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) || fe.Path != name || !strings.HasPrefix(err.Error(), name+":") {
				t.Fatalf("error does not name the file: %#v", err)
			}
			// Lines as dlt reads them: a lone "\r" ends one too.
			if lines := strings.Count(string(pyText([]byte(ws))), "\n") + 1; fe.Line < 0 || fe.Line > lines || fe.Column < 0 {
				t.Fatalf("position %d:%d outside the %d-line document", fe.Line, fe.Column, lines)
			}
		}
		gdoc, gerr := ParseTOML("global", []byte(global))
		root := t.TempDir()
		wsDir, homeDir := filepath.Join(root, "ws", ".dlt"), filepath.Join(root, "home", ".dlt")
		for dir, body := range map[string]string{wsDir: ws, homeDir: global} {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "secrets.toml"), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		r, err := New(Options{ConfigDir: wsDir, GlobalDir: homeDir, LookupEnv: func(string) (string, bool) { return "", false }})
		if (err != nil) != (doc == nil || gerr != nil) {
			t.Fatalf("New: %v, but the files parse: %v / %v", err, doc != nil, gerr)
		}
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) || !strings.HasSuffix(fe.Path, "secrets.toml") {
				t.Fatalf("New error does not name the file: %v", err)
			}
			return
		}
		wsFile, homeFile := filepath.Join(wsDir, "secrets.toml"), filepath.Join(homeDir, "secrets.toml")
		check := func(path []string, want any, from string) {
			k := Key{Sections: path[:len(path)-1], Name: path[len(path)-1]}
			res, err := r.Lookup(k)
			if err != nil || !res.Found {
				t.Fatalf("%q not found: %v", path, err)
			}
			if !sameValue(res.Value, want) || res.Winner.Origin != from {
				t.Fatalf("%q = %#v from %s, want %#v from %s", path, res.Value, res.Winner.Origin, want, from)
			}
		}
		leaves(doc, nil, func(path []string, v any) { check(path, v, wsFile) })
		leaves(gdoc, nil, func(path []string, v any) {
			// Shadowed when the workspace has a value at the path or at
			// one of its prefixes.
			var cur any = doc
			for _, p := range path {
				m, ok := cur.(map[string]any)
				if !ok {
					return
				}
				if cur, ok = m[p]; !ok {
					check(path, v, homeFile)
					return
				}
			}
		})
	})
}

type fuzzCreds struct {
	Host     string `config:"host"`
	Port     uint16 `config:"port"`
	Password string `config:"password"`
}

type fuzzTarget struct {
	Name     string            `config:"name"`
	Count    int8              `config:"count"`
	Size     uint64            `config:"size"`
	Ratio    float32           `config:"ratio"`
	On       bool              `config:"on"`
	Every    time.Duration     `config:"every"`
	Tags     []string          `config:"tags"`
	Limits   map[string]int    `config:"limits"`
	Extra    any               `config:"extra"`
	Ptr      *int              `config:"ptr"`
	Creds    fuzzCreds         `config:"credentials"`
	Nested   map[string][]bool `config:"nested"`
	Required string            `config:"required,required"`
}

// FuzzDecodeEnv holds for any environment variable value and any TOML
// value given for a typed field: Decode fills the struct or fails with an
// error that names the key and where the value came from; it never panics.
func FuzzDecodeEnv(f *testing.F) {
	for _, s := range []struct{ field, env, toml string }{
		{"count", "12", "count = 3"},
		{"count", "300", "count = 300"},
		{"size", "-1", "size = -1"},
		{"ratio", "1e40", "ratio = 1.5"},
		{"on", "TRUE", "on = \"yes\""},
		{"every", "5m", "every = 1.5"},
		{"tags", `["a", 1]`, "tags = [\"a\", 2]"},
		{"limits", `{"a": 1.5}`, "limits = { a = 1 }"},
		{"extra", `{"k": [1, 2]}`, "extra = 2024-01-01"},
		{"ptr", "7", "ptr = 7"},
		{"credentials", "postgresql://u:p@h:5432/db", "credentials = { host = \"h\", port = 70000 }"},
		{"credentials", `{"port": "x"}`, "[credentials]\nport = 5432"},
		{"nested", `{"a": [true, "no"]}`, "nested = { a = [true] }"},
		{"required", "", "other = 1"},
	} {
		f.Add(s.field, s.env, s.toml)
	}
	f.Fuzz(func(t *testing.T, field, env, doc string) {
		if strings.ContainsAny(field, ".\x00") || strings.TrimSpace(field) == "" {
			return
		}
		tree, err := ParseTOML("config.toml", []byte("[app]\n"+doc))
		if err != nil {
			return
		}
		p := &TomlProvider{name: ConfigProviderName, tree: tree, origin: map[string]string{}}
		leaves(tree, nil, func(path []string, _ any) { p.origin[pathKey(path)] = "config.toml" })
		envName := EnvName([]string{"app", field})
		r := &Resolver{Providers: []Provider{
			&EnvProvider{LookupEnv: func(k string) (string, bool) {
				if k == envName {
					return env, true
				}
				return "", false
			}}, p,
		}}
		var dst fuzzTarget
		err = r.Decode("", []string{"app"}, &dst)
		if err == nil {
			return
		}
		var miss *MissingError
		if errors.As(err, &miss) {
			if !strings.Contains(err.Error(), "required") {
				t.Fatalf("missing error does not name the key: %v", err)
			}
			return
		}
		var ns *NotSecretError
		if errors.As(err, &ns) {
			return
		}
		if !strings.Contains(err.Error(), "app.") || (!strings.Contains(err.Error(), "env APP__") && !strings.Contains(err.Error(), "config.toml")) {
			t.Fatalf("error names neither the key nor its source: %v", err)
		}
	})
}
