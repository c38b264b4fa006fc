package loadpackage

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// openDirect opens a file with O_DIRECT added to flag, or without it (and
// direct false) where the file system refuses it (tmpfs, some network and
// FUSE file systems answer EINVAL).
func openDirect(path string, flag int) (f *os.File, direct bool, err error) {
	f, err = os.OpenFile(path, flag|unix.O_DIRECT, 0o644)
	if err == nil {
		return f, true, nil
	}
	if !errors.Is(err, unix.EINVAL) {
		return nil, false, err
	}
	f, err = os.OpenFile(path, flag, 0o644)
	return f, false, err
}

// pread reads at off once, retrying on EINTR. With O_DIRECT a read must
// start at an aligned offset, so the retry loop of os.File.ReadAt (which
// continues where a short read stopped) cannot be used.
func pread(f *os.File, b []byte, off int64) (int, error) {
	for {
		n, err := unix.Pread(int(f.Fd()), b, off)
		if !errors.Is(err, unix.EINTR) {
			return n, err
		}
	}
}

// clearDirect turns O_DIRECT off on an open file: a file system may take
// the flag at open and still refuse a direct write or read (EINVAL, e.g.
// a logical block larger than directAlign); the file then goes on
// through the page cache.
func clearDirect(f *os.File) error {
	fd := int(f.Fd())
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		return err
	}
	_, err = unix.FcntlInt(uintptr(fd), unix.F_SETFL, flags&^unix.O_DIRECT)
	return err
}

// refused reports an error of a direct write or read that the page cache
// would not have: the fallback applies.
func refused(err error) bool { return errors.Is(err, unix.EINVAL) }
