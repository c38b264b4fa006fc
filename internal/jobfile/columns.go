package jobfile

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/parquet-go/parquet-go"

	"github.com/dlthub/dlthub/internal/loadpackage"
)

// FormatOf is a job file's format, from its extension.
func FormatOf(path string) Format {
	return Format(strings.TrimPrefix(filepath.Ext(path), "."))
}

// Columns returns the names of the columns a job file holds: a CSV file's
// header, a pgcopy file's header extension, or a Parquet file's schema
// (read from its footer).
func Columns(path string) ([]string, error) {
	switch FormatOf(path) {
	case CSV:
		return loadpackage.ReadHeader(path)
	case PGCopy:
		cols, err := PGCopyColumns(path)
		if err != nil {
			return nil, err
		}
		names := make([]string, len(cols))
		for i, c := range cols {
			names[i] = c.Name
		}
		return names, nil
	case Parquet:
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer func() { _ = f.Close() }()
		st, err := f.Stat()
		if err != nil {
			return nil, err
		}
		pf, err := parquet.OpenFile(f, st.Size(), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		fields := pf.Schema().Fields()
		names := make([]string, len(fields))
		for i, fl := range fields {
			names[i] = fl.Name()
		}
		return names, nil
	}
	return nil, fmt.Errorf("%s: not a job file this engine reads (parquet, csv, pgcopy)", path)
}
