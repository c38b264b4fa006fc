//go:build !linux

package loadpackage

import "os"

// openDirect opens a file through the page cache: O_DIRECT is Linux's.
func openDirect(path string, flag int) (*os.File, bool, error) {
	f, err := os.OpenFile(path, flag, 0o644)
	return f, false, err
}

// pread reads at off once.
func pread(f *os.File, b []byte, off int64) (int, error) {
	return f.ReadAt(b, off)
}
