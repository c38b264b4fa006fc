package loadpackage

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to start writing a file's byte range to
// disk and returns without waiting (sync_file_range with
// SYNC_FILE_RANGE_WRITE). It promises nothing about durability: the
// file's fsync still does that.
func startWriteback(f *os.File, off, n int64) {
	_ = unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE)
}
