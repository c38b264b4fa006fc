// Package directio reads and writes files that are read or written once,
// front to back, with O_DIRECT: the bytes go between the disk and a few
// large buffers of ours instead of through the page cache, which costs a
// page of kernel memory per 4 KB, filled and later reclaimed, for bytes
// nobody reads twice. On this project's machine (a VM that hands freed
// memory back to its host, see docs/performance.md) writing 2 GB through
// the page cache took 6.2 s of system time and with O_DIRECT 0.3 s;
// reading it back uncached 4.2 s against 0.1 s. File systems that refuse
// O_DIRECT (tmpfs, some network and FUSE ones) are read and written
// through the page cache instead.
package directio

import (
	"io"
	"os"
	"unsafe"
)

// Align is the alignment O_DIRECT needs of a buffer's address, a read or
// write's length and its file offset: the logical block size, at most
// 4 KB on the disks this runs on.
const Align = 4096

// ReadBufSize is the size of a direct read: large enough that the disk
// streams, small enough to keep a few in flight.
const ReadBufSize = 4 << 20

// AlignedBuf returns an empty slice of capacity n whose first byte is
// aligned for O_DIRECT; n must be a multiple of Align.
func AlignedBuf(n int) []byte {
	b := make([]byte, n+Align)
	off := int(-uintptr(unsafe.Pointer(&b[0])) & (Align - 1))
	return b[off : off : off+n]
}

// coldBelow is the share of a file's pages in the page cache under which
// OpenOnce reads it directly: a file mostly cached is copied from memory,
// which is cheaper than reading it from the disk again.
const coldBelow = 0.5

// OpenOnce opens a whole file that is read once, front to back, such as a
// source file of records: directly (OpenSequential) when less than half of
// it is in the page cache, else through the page cache. A large file read
// cold through the page cache cost 2.2 s of system time per GB here (see
// docs/performance.md); read directly, a few hundredths.
func OpenOnce(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err == nil && st.Mode().IsRegular() && st.Size() >= minDirect {
		if share, err := residentFraction(f, st.Size()); err == nil && share < coldBelow {
			_ = f.Close()
			return OpenSequential(path, 0, -1)
		}
	}
	return f, nil
}

// minDirect is the smallest file OpenOnce reads directly: below it the
// page cache costs little, and a small file is often read again.
const minDirect = 16 << 20

// OpenSequential opens the bytes [start, end) of a file (end < 0: to its
// end) for one read from front to back (loadpackage.CreateDirect writes
// the extract stage's copies for it): with
// O_DIRECT where the file system allows it, reading ahead on a goroutine
// so the disk's time overlaps the reader's; else through the page cache.
func OpenSequential(path string, start, end int64) (io.ReadCloser, error) {
	f, direct, err := OpenFile(path, os.O_RDONLY)
	if err != nil {
		return nil, err
	}
	if !direct {
		if end < 0 {
			end = 1<<63 - 1
		}
		return sectionFile{io.NewSectionReader(f, start, end-start), f}, nil
	}
	r := &directReader{f: f, direct: true, full: make(chan directChunk, 2), free: make(chan []byte, 3), stop: make(chan struct{}), done: make(chan struct{})}
	for range 3 {
		r.free <- AlignedBuf(ReadBufSize)
	}
	go r.readAhead(start, end)
	return r, nil
}

// sectionFile is a file's section that closes the file.
type sectionFile struct {
	*io.SectionReader
	f *os.File
}

func (s sectionFile) Close() error { return s.f.Close() }

// directChunk is what one read ahead gave: bytes, or the error (io.EOF at
// the end) after the last of them.
type directChunk struct {
	b   []byte // within a buffer from free; given back when read
	buf []byte
	err error
}

// directReader reads a file opened with O_DIRECT in aligned blocks.
type directReader struct {
	f *os.File
	// direct is false once the file system refused a direct read; only
	// readAhead uses it.
	direct bool
	full   chan directChunk
	free   chan []byte
	stop   chan struct{}
	done   chan struct{}
	cur    directChunk
	err    error
}

// readAhead reads [start, end) in aligned blocks into free buffers.
func (r *directReader) readAhead(start, end int64) {
	defer close(r.done)
	off := start &^ (Align - 1)
	skip := int(start - off)
	for {
		var buf []byte
		select {
		case buf = <-r.free:
		case <-r.stop:
			return
		}
		b := buf[:cap(buf)]
		n, err := 0, error(nil)
		for n < len(b) {
			m, rerr := pread(r.f, b[n:], off+int64(n))
			if Refused(rerr) && r.direct {
				// Taken at open, refused at read: go on through the
				// page cache.
				if rerr = ClearDirect(r.f); rerr == nil {
					r.direct = false
					continue
				}
			}
			if rerr != nil {
				err = rerr
				break
			}
			n += m
			if m == 0 || (r.direct && m%Align != 0) { // the end of the file
				err = io.EOF
				break
			}
		}
		data := b[:n]
		if end >= 0 && off+int64(n) >= end {
			data = b[:end-off]
			if err == nil {
				err = io.EOF
			}
		}
		if skip > 0 {
			data = data[min(skip, len(data)):]
			skip = 0
		}
		off += int64(n)
		select {
		case r.full <- directChunk{b: data, buf: buf, err: err}:
		case <-r.stop:
			return
		}
		if err != nil {
			return
		}
	}
}

// Read copies the next bytes read ahead into p.
func (r *directReader) Read(p []byte) (int, error) {
	for len(r.cur.b) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		if r.cur.buf != nil {
			r.free <- r.cur.buf[:0]
		}
		c, ok := <-r.full
		if !ok {
			return 0, io.ErrClosedPipe
		}
		r.cur, r.err = c, c.err
	}
	n := copy(p, r.cur.b)
	r.cur.b = r.cur.b[n:]
	return n, nil
}

// Close stops reading ahead and closes the file.
func (r *directReader) Close() error {
	close(r.stop)
	<-r.done
	return r.f.Close()
}
