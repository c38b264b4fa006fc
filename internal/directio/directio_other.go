//go:build !linux

package directio

import "os"

// OpenFile opens a file through the page cache: O_DIRECT is Linux's.
func OpenFile(path string, flag int) (*os.File, bool, error) {
	f, err := os.OpenFile(path, flag, 0o644)
	return f, false, err
}

// pread reads at off once.
func pread(f *os.File, b []byte, off int64) (int, error) {
	return f.ReadAt(b, off)
}

// ClearDirect does nothing: files here are never opened with O_DIRECT.
func ClearDirect(*os.File) error { return nil }

// Refused is false: there are no direct writes or reads to refuse.
func Refused(error) bool { return false }

// residentFraction reports the whole file cached: without O_DIRECT there
// is nothing to choose.
func residentFraction(*os.File, int64) (float64, error) { return 1, nil }

// Drop does nothing here: dropping one file from the page cache is
// Linux's posix_fadvise.
func Drop(string) error { return nil }
