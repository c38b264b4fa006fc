package benchdata

import (
	"bufio"
	"context"
	"iter"
	"os"

	"github.com/dlthub/dlthub/internal/jsonx"
	"github.com/dlthub/dlthub/internal/pipeline"
)

// JSONLResource yields a JSON-lines file's lines as raw records, as the
// benchmarks load it.
func JSONLResource(name, path string) *pipeline.Resource {
	return &pipeline.Resource{Name: name, Records: func(context.Context, *pipeline.ResourceContext) iter.Seq2[any, error] {
		return func(yield func(any, error) bool) {
			f, err := os.Open(path)
			if err != nil {
				yield(nil, err)
				return
			}
			defer func() { _ = f.Close() }()
			sc := bufio.NewScanner(f)
			sc.Buffer(make([]byte, 1<<20), 64<<20)
			for sc.Scan() {
				if !yield(jsonx.Raw(sc.Bytes()), nil) {
					return
				}
			}
			if err := sc.Err(); err != nil {
				yield(nil, err)
			}
		}
	}}
}
