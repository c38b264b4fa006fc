package benchdata

import (
	"path/filepath"

	"github.com/dlthub/dlthub/internal/pipeline"
	"github.com/dlthub/dlthub/internal/source/filesystem"
)

// JSONLResource reads a JSON-lines file through the filesystem source, as a
// user's pipeline reads one, so the benchmarks measure that path.
func JSONLResource(name, path string) *pipeline.Resource {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	dir, base := filepath.Split(abs)
	src := filesystem.Config{BucketURL: dir, FileGlob: base, Format: filesystem.JSONL}
	return &pipeline.Resource{Name: name, Records: src.Records()}
}
