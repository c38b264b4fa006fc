package pipeline

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlthub/dlthub/internal/config"
)

// Location tells where data lives without a password or token, whatever
// form the credentials take (issue: `local pipeline info` printed a
// PostgreSQL password inside a "Database:" path).
func TestLocationHasNoSecrets(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"DESTINATION__WH__DESTINATION_TYPE": "postgres", "DESTINATION__WH__CREDENTIALS": "postgresql://loader:s3cret-pw@db.example:5433/analytics"},
			"postgresql://loader@db.example:5433/analytics"},
		{map[string]string{"DESTINATION__WH__DESTINATION_TYPE": "postgres", "DESTINATION__WH__CREDENTIALS__PASSWORD": "s3cret-pw", "DESTINATION__WH__CREDENTIALS__USERNAME": "loader",
			"DESTINATION__WH__CREDENTIALS__HOST": "db.example", "DESTINATION__WH__CREDENTIALS__DATABASE": "analytics"}, "postgresql://loader@db.example:5432/analytics"},
		{map[string]string{"DESTINATION__WH__DESTINATION_TYPE": "motherduck", "DESTINATION__WH__CREDENTIALS": "md:analytics?motherduck_token=s3cret-pw"}, "md:analytics"},
		{map[string]string{"DESTINATION__WH__DESTINATION_TYPE": "filesystem", "DESTINATION__WH__BUCKET_URL": "s3://key:s3cret-pw@bucket/path?x=s3cret-pw"}, "s3://bucket/path"},
		{map[string]string{"DESTINATION__WH__DESTINATION_TYPE": "duckdb"}, filepath.Join(dir, "wh.duckdb")},
	} {
		env := tc.env
		r := &config.Resolver{Providers: []config.Provider{&config.EnvProvider{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}}}
		p, err := New(Options{Name: "wh", Destination: "wh", PipelinesDir: filepath.Join(dir, "p"), LocalDir: dir, Resolver: r})
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Location(); got != tc.want || strings.Contains(got, "s3cret") {
			t.Errorf("%s: location %q, want %q", env["DESTINATION__WH__DESTINATION_TYPE"], got, tc.want)
		}
	}
}
