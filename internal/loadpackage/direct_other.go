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

// clearDirect does nothing: files here are never opened with O_DIRECT.
func clearDirect(*os.File) error { return nil }

// refused is false: there are no direct writes or reads to refuse.
func refused(error) bool { return false }
