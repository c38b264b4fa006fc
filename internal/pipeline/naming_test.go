package pipeline

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlthub/dlthub/internal/config"
	"github.com/dlthub/dlthub/internal/loadpackage"
)

// dlt's other naming conventions and detections are refused before
// anything is extracted, from the setting or from a stored schema: the
// engine would put the same data into other columns, or type it
// otherwise, next to what dlt stored. A refused run leaves nothing
// pending, and the stored schema keeps what dlt wrote.
func TestNamingConventionsRefused(t *testing.T) {
	run := func(t *testing.T, dir string, env map[string]string) (*Pipeline, error) {
		t.Helper()
		r := &config.Resolver{Providers: []config.Provider{&config.EnvProvider{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}}}
		p, err := New(Options{Name: "names", PipelinesDir: filepath.Join(dir, "p"), LocalDir: filepath.Join(dir, "d"), Resolver: r})
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.Run(context.Background(), &Resource{Name: "items", Records: records(jsonRecords(t, `{"UserName": "a"}`)...)})
		return p, err
	}
	pending := func(t *testing.T, p *Pipeline) int {
		t.Helper()
		ids, err := p.store.List(loadpackage.ExtractedDir)
		if err != nil {
			t.Fatal(err)
		}
		return len(ids)
	}
	t.Run("setting", func(t *testing.T) {
		p, err := run(t, t.TempDir(), map[string]string{"SCHEMA__NAMING": "sql_cs_v1"})
		if err == nil || !strings.Contains(err.Error(), `schema.naming = "sql_cs_v1"`) || !strings.Contains(err.Error(), "SCHEMA__NAMING") {
			t.Fatalf("err = %v, want the setting and where it is named", err)
		}
		if n := pending(t, p); n != 0 {
			t.Errorf("%d packages extracted by a refused run", n)
		}
		if _, err := run(t, t.TempDir(), map[string]string{"SCHEMA__NAMING": "snake_case"}); err != nil {
			t.Fatalf("snake_case: %v", err)
		}
	})
	for name, tc := range map[string]struct {
		edit    func(doc map[string]any)
		wantErr string
	}{
		"naming": {func(doc map[string]any) { doc["normalizers"].(map[string]any)["names"] = "duck_case" }, `by dlt's "duck_case" convention`},
		"detections": {func(doc map[string]any) {
			doc["settings"].(map[string]any)["detections"] = []any{"iso_timestamp", "timestamp"}
		}, `detects ["iso_timestamp" "timestamp"]`},
	} {
		t.Run("stored "+name, func(t *testing.T) {
			dir := t.TempDir()
			p, err := run(t, dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(p.schemaPath())
			if err != nil {
				t.Fatal(err)
			}
			var doc map[string]any
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatal(err)
			}
			tc.edit(doc)
			if b, err = json.Marshal(doc); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p.schemaPath(), b, 0o644); err != nil {
				t.Fatal(err)
			}
			p, err = run(t, dir, nil)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if n := pending(t, p); n != 0 {
				t.Errorf("%d packages extracted by a refused run", n)
			}
			s, err := p.loadSchema(context.Background(), nil)
			if err != nil {
				t.Fatal(err)
			}
			out, err := json.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			var back map[string]any
			if err := json.Unmarshal(out, &back); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"normalizers", "settings"} {
				want, _ := json.Marshal(doc[k])
				got, _ := json.Marshal(back[k])
				if string(got) != string(want) {
					t.Errorf("%s written back as %s, want dlt's %s", k, got, want)
				}
			}
		})
	}
}
