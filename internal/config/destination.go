package config

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrUnknownDestination is wrapped by errors about destination names that are
// neither configured nor a known type.
var ErrUnknownDestination = errors.New("unknown destination")

// DestinationType is a destination type this build loads into.
type DestinationType struct {
	Name        string
	Description string
}

// SupportedDestinations are the destination types this build loads into,
// with a line on each: the one list behind `pipeline init`'s checks and
// --list-destinations, and the errors here.
func SupportedDestinations() []DestinationType {
	return []DestinationType{
		{"duckdb", "embedded DuckDB file in the profile's local dir (default)"},
		{"filesystem", "Parquet or JSONL files in a directory (destination.<name>.bucket_url)"},
		{"motherduck", "DuckDB in MotherDuck: credentials md:<database>?motherduck_token=… (needs the network)"},
		{"postgres", "PostgreSQL: destination.<name>.credentials, a connection string or fields"},
	}
}

// DestinationTypes are the names of the destination types this build knows.
func DestinationTypes() []string {
	var out []string
	for _, d := range SupportedDestinations() {
		out = append(out, d.Name)
	}
	return out
}

// dltOnlyDestinations are destination types of Python dlt that this build
// cannot load into: a name among them is a type, never a named destination.
func dltOnlyDestinations() []string {
	return []string{
		"athena", "bigquery", "clickhouse", "databricks", "destination", "dremio", "ducklake", "dummy",
		"fabric", "lancedb", "mssql", "qdrant", "redshift", "snowflake", "sqlalchemy", "synapse", "weaviate",
	}
}

// IsUnsupportedDestination reports a destination type Python dlt knows and
// this build cannot load into (bigquery, snowflake, …).
func IsUnsupportedDestination(name string) bool {
	return slices.Contains(dltOnlyDestinations(), name)
}

// AllDestinationTypes are every destination type name dlt knows, supported
// here or not (for "did you mean" on mistyped names).
func AllDestinationTypes() []string {
	return append(DestinationTypes(), dltOnlyDestinations()...)
}

// Destination is a resolved destination reference.
type Destination struct {
	// Name is what the pipeline asked for ("warehouse" or "duckdb").
	Name string
	// Type is the destination type ("duckdb").
	Type string
	// Sections is where its settings live: destination.<name>.
	Sections []string
}

// ResolveDestination turns a destination reference into a type: a named
// destination has destination.<name>.destination_type; a plain type name
// needs no configuration. Unknown names fail with the keys tried and the
// known types.
func (r *Resolver) ResolveDestination(pipeline, name string) (Destination, error) {
	if name == "" {
		return Destination{}, fmt.Errorf("%w: no destination given; set one of %s or a named destination", ErrUnknownDestination, strings.Join(DestinationTypes(), ", "))
	}
	k := Key{Pipeline: pipeline, Fixed: []string{"destination", name}, Name: "destination_type"}
	res, err := r.Lookup(k)
	if err != nil {
		return Destination{}, err
	}
	d := Destination{Name: name, Sections: []string{"destination", name}}
	if res.Found {
		t, ok := res.Value.(string)
		if !ok || !slices.Contains(DestinationTypes(), t) {
			return Destination{}, fmt.Errorf("%w: %s from %s is %v; known types: %s", ErrUnknownDestination, k, describe(res.Winner), res.Value, strings.Join(DestinationTypes(), ", "))
		}
		d.Type = t
		return d, nil
	}
	if slices.Contains(DestinationTypes(), name) {
		d.Type = name
		return d, nil
	}
	if IsUnsupportedDestination(name) {
		return Destination{}, fmt.Errorf("%w %q: dlt knows this destination type, but this build cannot load into it; supported: %s. Pick one of those, or name a destination (destination.<name>.destination_type in .dlt/config.toml)",
			ErrUnknownDestination, name, strings.Join(DestinationTypes(), ", "))
	}
	var tried []string
	for _, t := range res.Traces {
		tried = append(tried, t.Provider+" "+t.KeyName)
	}
	return Destination{}, fmt.Errorf("%w %q (profile %q): it is not a destination type and no destination_type is configured for it; tried %s; known types: %s. Add to .dlt/config.toml:\n  [destination.%s]\n  destination_type = \"duckdb\"",
		ErrUnknownDestination, name, r.Profile, strings.Join(tried, ", "), strings.Join(DestinationTypes(), ", "), name)
}
