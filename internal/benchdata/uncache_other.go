//go:build !linux

package benchdata

// Uncache does nothing here: dropping one file from the page cache is
// Linux's posix_fadvise.
func Uncache(string) error { return nil }
