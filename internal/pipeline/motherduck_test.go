package pipeline

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlthub/dlthub/internal/config"
	"github.com/dlthub/dlthub/internal/destination/duckdb"
)

// MotherDuck cannot be reached from here: everything up to opening the
// connection is tested, and the failure must say what happened.
func TestMotherDuck(t *testing.T) {
	var c duckdb.MotherDuckCredentials
	if err := c.ParseNative("md:analytics?motherduck_token=s3cret"); err != nil || c.Database != "analytics" || c.Password != "s3cret" {
		t.Fatalf("%+v %v", c, err)
	}
	if dsn, _ := c.DSN(); dsn != "md:analytics?motherduck_token=s3cret" {
		t.Errorf("dsn %s", dsn)
	}
	if err := c.ParseNative("postgresql://x"); err == nil {
		t.Error("non-md string accepted")
	}
	run := func(env map[string]string) error {
		r := &config.Resolver{Providers: []config.Provider{&config.EnvProvider{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}}}
		dir := t.TempDir()
		p, err := New(Options{Name: "md", Destination: "cloud", PipelinesDir: filepath.Join(dir, "p"), LocalDir: dir, Resolver: r})
		if err != nil {
			return err
		}
		_, err = p.Run(context.Background(), &Resource{Name: "r", Records: records(map[string]any{"a": int64(1)})})
		return err
	}
	err := run(map[string]string{"DESTINATION__CLOUD__DESTINATION_TYPE": "motherduck", "DESTINATION__CLOUD__CREDENTIALS": "md:analytics?motherduck_token=s3cret"})
	if err == nil || !strings.Contains(err.Error(), `could not reach MotherDuck for database "analytics"`) || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("unreachable: %v", err)
	}
	err = run(map[string]string{"DESTINATION__CLOUD__DESTINATION_TYPE": "motherduck", "DESTINATION__CLOUD__CREDENTIALS__DATABASE": "analytics"})
	if err == nil || !strings.Contains(err.Error(), "motherduck: no token") {
		t.Errorf("no token: %v", err)
	}
}
