package pipeline

import (
	"fmt"
	"os"
	"path/filepath"
)

// lockName is the file in a pipeline's working dir that a run (and a
// command that changes the dir) holds locked.
const lockName = ".lock"

// lock keeps other runs of this pipeline out of its working dir until
// unlock is called. Two runs at once discarded each other's packages in
// progress (each run starts by clearing unfinished ones) and left a
// package that every later run stopped on; on PostgreSQL, both could
// load one package.
func (p *Pipeline) lock() (unlock func(), err error) {
	if err := os.MkdirAll(p.store.Dir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(p.store.Dir, lockName)
	unlock, busy, err := lockFile(path)
	if err != nil {
		return nil, fmt.Errorf("lock pipeline %q: %w", p.opts.Name, err)
	}
	if busy {
		return nil, fmt.Errorf("pipeline %q is running in another process or run (%s is locked): wait for that run to end", p.opts.Name, path)
	}
	return unlock, nil
}
