package directio

import (
	"errors"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// OpenFile opens a file with O_DIRECT added to flag, or without it (and
// direct false) where the file system refuses it (tmpfs, some network and
// FUSE file systems answer EINVAL).
func OpenFile(path string, flag int) (f *os.File, direct bool, err error) {
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

// ClearDirect turns O_DIRECT off on an open file: a file system may take
// the flag at open and still refuse a direct write or read (EINVAL, e.g.
// a logical block larger than Align); the file then goes on
// through the page cache.
func ClearDirect(f *os.File) error {
	fd := int(f.Fd())
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		return err
	}
	_, err = unix.FcntlInt(uintptr(fd), unix.F_SETFL, flags&^unix.O_DIRECT)
	return err
}

// Refused reports an error of a direct write or read that the page cache
// would not have: the fallback applies.
func Refused(err error) bool { return errors.Is(err, unix.EINVAL) }

// residentFraction is the share of f's first size bytes that the page
// cache holds, from mincore(2) over a read-only mapping of the file,
// 256 MB at a time (mapping a file reads none of it).
func residentFraction(f *os.File, size int64) (float64, error) {
	const window = 256 << 20
	page := int64(os.Getpagesize())
	vec := make([]byte, window/page)
	var resident, pages int64
	for off := int64(0); off < size; off += window {
		n := min(window, size-off)
		m, err := unix.Mmap(int(f.Fd()), off, int(n), unix.PROT_READ, unix.MAP_SHARED)
		if err != nil {
			return 0, err
		}
		np := (n + page - 1) / page
		_, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(n), uintptr(unsafe.Pointer(&vec[0])))
		_ = unix.Munmap(m)
		if errno != 0 {
			return 0, errno
		}
		for _, v := range vec[:np] {
			resident += int64(v & 1)
		}
		pages += np
	}
	if pages == 0 {
		return 1, nil
	}
	return float64(resident) / float64(pages), nil
}

// Drop writes a file back and drops it from the page cache
// (POSIX_FADV_DONTNEED), so that its next read comes from the disk: the
// state OpenOnce reads directly, and the one a benchmark gives every side
// it compares.
func Drop(path string) error {
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
