package config

import (
	"errors"
	"strings"
	"testing"
)

// TestResolveUnsupportedDestinationType: a dlt type this build cannot load
// into is named as such, never offered as a DuckDB named destination.
func TestResolveUnsupportedDestinationType(t *testing.T) {
	r, err := New(Options{ConfigDir: t.TempDir(), Profile: "dev", LookupEnv: envOf(nil)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.ResolveDestination("", "bigquery")
	if !errors.Is(err, ErrUnknownDestination) || !strings.Contains(err.Error(), `"bigquery": dlt knows this destination type, but this build cannot load into it; supported: duckdb, filesystem, motherduck, postgres`) ||
		strings.Contains(err.Error(), `destination_type = "duckdb"`) {
		t.Errorf("bigquery: %v", err)
	}
	for _, d := range SupportedDestinations() {
		if IsUnsupportedDestination(d.Name) || d.Description == "" {
			t.Errorf("%s: listed as unsupported or without a description", d.Name)
		}
	}
}
