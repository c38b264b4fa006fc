package pipeline

import (
	"fmt"
	"path/filepath"
	"strings"
)

// DatasetAccess says where to read a pipeline's dataset back from. It may
// carry a password (PostgresDSN): give it to a reader, never print it;
// Location is what to show.
type DatasetAccess struct {
	// Type is the destination type: duckdb, postgres or filesystem.
	Type string
	// Destination is the destination's name.
	Destination string
	// Dataset is the schema (DuckDB, PostgreSQL) or folder (filesystem)
	// the tables are in.
	Dataset string
	// DuckDBPath is the DuckDB file.
	DuckDBPath string
	// PostgresDSN is the connection string, password included.
	PostgresDSN string
	// Dir is the filesystem destination's dataset folder: a folder per
	// table of Parquet or JSONL files.
	Dir string
	// Location is where the data lives, without secrets.
	Location string
}

// DatasetAccess tells how to read the dataset: the DuckDB file, the
// PostgreSQL connection or the filesystem folder. Destinations that cannot
// be read back here (MotherDuck, remote buckets) give an error that names
// them.
func (p *Pipeline) DatasetAccess() (DatasetAccess, error) {
	a := DatasetAccess{Type: p.dest.Type, Destination: p.dest.Name, Dataset: p.dataset, Location: p.Location()}
	var err error
	switch p.dest.Type {
	case "duckdb":
		a.DuckDBPath, err = p.DatabasePath()
		if err == nil && (a.DuckDBPath == ":memory:" || strings.HasPrefix(a.DuckDBPath, "md:")) {
			err = fmt.Errorf("destination %q: %s cannot be read back here", p.dest.Name, a.DuckDBPath)
		}
	case "postgres":
		a.PostgresDSN, err = p.postgresDSN()
	case "filesystem":
		var url string
		if url, err = p.bucketURL(); err == nil {
			switch {
			case strings.HasPrefix(url, "file://"):
				url = filepath.FromSlash(strings.TrimPrefix(url, "file://"))
			case strings.Contains(url, "://"):
				return a, fmt.Errorf("destination %q (filesystem) is at %s: only local folders can be read here", p.dest.Name, redactURL(url))
			}
			a.Dir = filepath.Join(url, p.dataset)
		}
	default:
		return a, fmt.Errorf("destination %q has type %s, which cannot be read here yet (duckdb, postgres and local filesystem datasets can)", p.dest.Name, p.dest.Type)
	}
	return a, err
}
