package benchdata

import (
	"os"

	"golang.org/x/sys/unix"
)

// Uncache writes a file back and drops it from the page cache, so that
// every side of a benchmark reads its input from the same state: from the
// disk. Without it the side that runs second read what the first had just
// brought into the cache, and on this project's VM, whose host takes
// back cold page cache within seconds, the first side's state was
// whatever the host had left.
func Uncache(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	if err := f.Sync(); err != nil {
		return err
	}
	return unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
}
