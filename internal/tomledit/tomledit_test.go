package tomledit

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

const commented = `# Workspace configuration — edited by hand.
# Keep the comments!

[runtime]
log_level = "WARNING"   # raise to INFO when debugging
dlthub_telemetry = true

# Named destinations
[destination.warehouse]
destination_type = "duckdb"

[sources.github]
# the repo to read
repo = "dlt-hub/dlt"
client.timeout = 30
`

func TestSetGolden(t *testing.T) {
	cases := []struct {
		name  string
		path  string
		value any
	}{
		{"replace_value", "runtime.log_level", "INFO"},
		{"replace_keeps_trailing_comment", "destination.warehouse.destination_type", "motherduck"},
		{"add_to_existing_table", "runtime.workspace_id", "ws_123"},
		{"add_new_table", "destination.prod.destination_type", "postgres"},
		{"add_top_level_key", "description", "my workspace"},
		{"add_via_dotted_sibling", "sources.github.client.retries", int64(5)},
		{"replace_dotted", "sources.github.client.timeout", int64(60)},
		{"add_list", "sources.github.labels", []any{"bug", "help wanted"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Set([]byte(commented), strings.Split(tc.path, "."), tc.value)
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", tc.name+".toml")
			if *update {
				if err := os.WriteFile(golden, out, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if string(out) != string(want) {
				t.Errorf("got:\n%s\nwant:\n%s", out, want)
			}
			// Every original line that was not the target survives.
			assertOnlyTargetChanged(t, commented, string(out), tc.path)
		})
	}
}

// assertOnlyTargetChanged checks that removing added lines and the edited
// line from both sides leaves identical documents.
func assertOnlyTargetChanged(t *testing.T, before, after, path string) {
	t.Helper()
	key := path[strings.LastIndex(path, ".")+1:]
	b := strings.Split(before, "\n")
	a := strings.Split(after, "\n")
	j := 0
	for _, line := range b {
		for j < len(a) && a[j] != line && !strings.Contains(line, key+" =") {
			j++
		}
		if j == len(a) {
			t.Fatalf("line %q lost or reordered", line)
		}
		j++
	}
}

func TestSetIdempotent(t *testing.T) {
	out, err := Set([]byte(commented), []string{"runtime", "log_level"}, "WARNING")
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != commented {
		t.Errorf("setting the same value changed the file:\n%s", out)
	}
}

func TestSetEmptyAndNoNewline(t *testing.T) {
	out, err := Set(nil, []string{"runtime", "workspace_id"}, "x")
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != "[runtime]\nworkspace_id = \"x\"\n" {
		t.Errorf("got %q", out)
	}
	out, err = Set([]byte("[a]\nb = 1"), []string{"a", "c"}, int64(2))
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != "[a]\nb = 1\nc = 2\n" {
		t.Errorf("got %q", out)
	}
	out, err = Set([]byte("[a]"), []string{"a", "c"}, int64(2))
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != "[a]\nc = 2\n" {
		t.Errorf("got %q", out)
	}
}

func TestSetRefusals(t *testing.T) {
	cases := []struct {
		doc, path, want string
	}{
		{"auth = { type = \"bearer\" }\n", "auth.token", "auth is an inline table (line 1)"},
		{"[[resources]]\nname = \"x\"\n", "resources.name", "resources is an array of tables"},
		{"a = 1\n", "a.b", "a is a value (line 1)"},
		{"[a\n", "a.b", "line 1, column"},
	}
	for _, tc := range cases {
		_, err := Set([]byte(tc.doc), strings.Split(tc.path, "."), "v")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Set(%q, %s) error = %v, want it to contain %q", tc.doc, tc.path, err, tc.want)
		}
	}
}

func TestQuotedKeys(t *testing.T) {
	doc := "[\"my table\"]\n\"odd key\" = 1\n"
	out, err := Set([]byte(doc), []string{"my table", "odd key"}, int64(2))
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != "[\"my table\"]\n\"odd key\" = 2\n" {
		t.Errorf("got %q", out)
	}
	out, err = Set([]byte(doc), []string{"my table", "new.key"}, "v")
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != "[\"my table\"]\n\"odd key\" = 1\n\"new.key\" = \"v\"\n" {
		t.Errorf("got %q", out)
	}
}

func TestParseValue(t *testing.T) {
	cases := map[string]any{
		"5432":         int64(5432),
		"true":         true,
		"1.5":          1.5,
		"duckdb":       "duckdb",
		`"quoted"`:     "quoted",
		"[1, 2]":       []any{int64(1), int64(2)},
		"postgres://x": "postgres://x",
		"":             "",
		"{ a = 1 }":    map[string]any{"a": int64(1)},
	}
	for in, want := range cases {
		got := ParseValue(in)
		g, _ := EncodeValue(got)
		w, _ := EncodeValue(want)
		if g != w {
			t.Errorf("ParseValue(%q) = %#v, want %#v", in, got, want)
		}
	}
}

func TestDelete(t *testing.T) {
	doc := "# my settings\n[runtime]\n# keep me\nauth_token = \"abc\" # login\napi_base_url = \"http://x\"\n\n[other]\na = 1\n"
	out, ok, err := Delete([]byte(doc), []string{"runtime", "auth_token"})
	if err != nil || !ok {
		t.Fatalf("%v %v", ok, err)
	}
	want := "# my settings\n[runtime]\n# keep me\napi_base_url = \"http://x\"\n\n[other]\na = 1\n"
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	if out2, ok, err := Delete(out, []string{"runtime", "auth_token"}); ok || err != nil || string(out2) != want {
		t.Errorf("second delete: %v %v", ok, err)
	}
	if _, _, err := Delete([]byte("a = {b = 1}\n"), []string{"a", "b"}); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("inline: %v", err)
	}
	if _, _, err := Delete([]byte("a = \n"), []string{"a"}); err == nil {
		t.Error("broken document accepted")
	}
	// Dotted keys at top level and the last line without a newline.
	out, ok, _ = Delete([]byte("x = 1\nruntime.auth_token = \"t\""), []string{"runtime", "auth_token"})
	if !ok || string(out) != "x = 1\n" {
		t.Errorf("dotted: %q", out)
	}
}
