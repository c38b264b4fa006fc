package loadpackage

import (
	"io"
	"os"
	"unsafe"
)

// Direct I/O for the extracted records. The extract stage writes a copy of
// every record, fsyncs it and the normalize stage reads it once, front to
// back, right after; through the page cache that copy costs a page of
// kernel memory per 4 KB, filled, written back and later reclaimed, for
// bytes nobody reads twice. Written and read with O_DIRECT, the bytes go
// between the disk and a few large buffers of ours. On this project's
// machine (a VM that hands freed memory back to its host, see
// docs/performance.md) writing 2 GB through the page cache took 6.2 s of
// system time and with O_DIRECT 0.3 s; reading it back uncached 4.2 s
// against 0.1 s. Job files stay in the page cache: the destinations
// (DuckDB, PostgreSQL's COPY) read them with their own buffered reads.

// directAlign is the alignment O_DIRECT needs of a buffer's address, a
// read or write's length and its file offset: the logical block size,
// at most 4 KB on the disks this runs on.
const directAlign = 4096

// directBufSize is the size of a direct read: large enough that the disk
// streams, small enough to keep a few in flight. Writes go in buffers of
// fileBufSize, as through the page cache: every resource of a run has a
// writer, most of them small (dd here: 1.2 GB/s in 1 MB direct writes,
// 1.3 in 4 MB).
const directBufSize = 4 << 20

// alignedBuf returns an empty slice of capacity n whose first byte is
// aligned for O_DIRECT; n must be a multiple of directAlign.
func alignedBuf(n int) []byte {
	b := make([]byte, n+directAlign)
	off := int(-uintptr(unsafe.Pointer(&b[0])) & (directAlign - 1))
	return b[off : off : off+n]
}

// CreateDirect opens a new file as Create does, for a file that is written
// once and read once (OpenSequential): with O_DIRECT where the file system
// allows it, else through the page cache as Create.
func CreateDirect(path string) (*FileWriter, error) {
	f, direct, err := openDirect(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		return nil, err
	}
	if !direct {
		return newFileWriter(f, path, false, make([]byte, 0, fileBufSize), make([]byte, 0, fileBufSize)), nil
	}
	return newFileWriter(f, path, true, alignedBuf(fileBufSize), alignedBuf(fileBufSize)), nil
}

// writeDirect writes one buffer of a file opened with O_DIRECT at offset
// off. Every buffer but the last is full (Write and WriteLine fill them
// to the end), so its length is aligned; the last one's tail is padded to
// a whole block and the file cut back to its true size.
func (w *FileWriter) writeDirect(b []byte, off int64) error {
	n := len(b) &^ (directAlign - 1)
	if n > 0 {
		if _, err := w.f.Write(b[:n]); err != nil {
			return err
		}
	}
	if n == len(b) {
		return nil
	}
	// b's capacity is a multiple of directAlign and len(b) < cap(b).
	block := b[n : n+directAlign]
	clear(block[len(b)-n:])
	if _, err := w.f.Write(block); err != nil {
		return err
	}
	return w.f.Truncate(off + int64(len(b)))
}

// OpenSequential opens the bytes [start, end) of a file (end < 0: to its
// end) for one read from front to back, as written by CreateDirect: with
// O_DIRECT where the file system allows it, reading ahead on a goroutine
// so the disk's time overlaps the reader's; else through the page cache.
func OpenSequential(path string, start, end int64) (io.ReadCloser, error) {
	f, direct, err := openDirect(path, os.O_RDONLY)
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
		r.free <- alignedBuf(directBufSize)
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
	off := start &^ (directAlign - 1)
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
			if refused(rerr) && r.direct {
				// Taken at open, refused at read: go on through the
				// page cache.
				if rerr = clearDirect(r.f); rerr == nil {
					r.direct = false
					continue
				}
			}
			if rerr != nil {
				err = rerr
				break
			}
			n += m
			if m == 0 || (r.direct && m%directAlign != 0) { // the end of the file
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
