// Package loadpackage keeps a pipeline's load packages on disk and moves them
// through their stages with directory renames, so a crash at any point
// leaves either the old or the new stage complete, never half of one:
//
//	normalize/new/<load_id>        extract in progress (discarded on restart)
//	normalize/extracted/<load_id>  raw records, ready to normalize
//	load/new/<load_id>             normalize in progress (discarded on restart)
//	load/normalized/<load_id>      typed rows per table, ready to load
//	load/loaded/<load_id>          loaded and committed
//
// Job files are named <table>.<file_id>.<retry>.<format>, as in dlt.
package loadpackage

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dlthub/dlthub/internal/atomicfile"
	"github.com/dlthub/dlthub/internal/directio"
)

// Stage directories, relative to the pipeline's working dir.
const (
	ExtractingDir  = "normalize/new"
	ExtractedDir   = "normalize/extracted"
	NormalizingDir = "load/new"
	NormalizedDir  = "load/normalized"
	LoadedDir      = "load/loaded"
	NewJobs        = "new_jobs"
	CompletedJobs  = "completed_jobs"
	ManifestFile   = "package.json"
	SchemaFile     = "schema.json"
)

// NewLoadID returns a sortable load id: Unix seconds with microseconds, as
// dlt writes them ("1700000000.123456").
func NewLoadID(now time.Time) string {
	return fmt.Sprintf("%d.%06d", now.Unix(), now.Nanosecond()/1000)
}

// Store is one pipeline working dir.
type Store struct{ Dir string }

func (s *Store) path(parts ...string) string {
	return filepath.Join(append([]string{s.Dir}, parts...)...)
}

// List returns the load ids in a stage, oldest first.
func (s *Store) List(stage string) ([]string, error) {
	entries, err := os.ReadDir(s.path(stage))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, e := range entries {
		if e.IsDir() {
			ids = append(ids, e.Name())
		}
	}
	sort.Strings(ids)
	return ids, nil
}

// PackageDir returns the directory of a package in a stage.
func (s *Store) PackageDir(stage, loadID string) string { return s.path(stage, loadID) }

// Recover discards unfinished extracts and normalizations, and extracted
// packages that were already normalized (a crash between the rename and the
// clean-up). What remains is complete and can be carried forward.
func (s *Store) Recover() error {
	for _, stage := range []string{ExtractingDir, NormalizingDir} {
		if err := os.RemoveAll(s.path(stage)); err != nil {
			return fmt.Errorf("discard unfinished packages: %w", err)
		}
	}
	extracted, err := s.List(ExtractedDir)
	if err != nil {
		return err
	}
	for _, id := range extracted {
		for _, later := range []string{NormalizedDir, LoadedDir} {
			if _, err := os.Stat(s.path(later, id)); err == nil {
				if err := os.RemoveAll(s.path(ExtractedDir, id)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// Begin creates a package directory in an in-progress stage.
func (s *Store) Begin(stage, loadID string) (string, error) {
	dir := s.path(stage, loadID)
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	return dir, nil
}

// Commit moves a finished package from one stage to the next with one
// rename, after syncing what it wrote.
func (s *Store) Commit(from, to, loadID string) error {
	if err := os.MkdirAll(s.path(to), 0o755); err != nil {
		return err
	}
	if err := syncDir(s.path(from, loadID)); err != nil {
		return err
	}
	if err := os.Rename(s.path(from, loadID), s.path(to, loadID)); err != nil {
		return fmt.Errorf("move package %s to %s: %w", loadID, to, err)
	}
	return syncDir(s.path(to))
}

// Discard deletes a package from a stage.
func (s *Store) Discard(stage, loadID string) error { return os.RemoveAll(s.path(stage, loadID)) }

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	return f.Sync()
}

// WriteJSON writes v as a JSON file atomically.
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(path, b, 0o644)
}

// ReadJSON reads a JSON file into v.
func ReadJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// JobFile is a parsed job file name.
type JobFile struct {
	Path   string
	Table  string
	FileID string
	Retry  int
	Format string
}

// ParseJobFile splits <table>.<file_id>.<retry>.<format>.
func ParseJobFile(path string) (JobFile, bool) {
	base := filepath.Base(path)
	parts := strings.Split(base, ".")
	if len(parts) < 4 {
		return JobFile{}, false
	}
	n := len(parts)
	var retry int
	if _, err := fmt.Sscanf(parts[n-2], "%d", &retry); err != nil {
		return JobFile{}, false
	}
	return JobFile{Path: path, Table: strings.Join(parts[:n-3], "."), FileID: parts[n-3], Retry: retry, Format: parts[n-1]}, true
}

// Jobs lists the job files in a package's subdirectory, by table and name.
func Jobs(dir string) ([]JobFile, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []JobFile
	for _, e := range entries {
		if j, ok := ParseJobFile(filepath.Join(dir, e.Name())); ok {
			out = append(out, j)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].before(out[j]) })
	return out, nil
}

// before orders job files by table, then by file id as a number (file 10
// of a table comes after file 9: merge's "last record wins" follows this
// order), then by name.
func (j JobFile) before(k JobFile) bool {
	if j.Table != k.Table {
		return j.Table < k.Table
	}
	a, aerr := strconv.ParseUint(j.FileID, 10, 64)
	b, berr := strconv.ParseUint(k.FileID, 10, 64)
	switch {
	case aerr == nil && berr == nil && a != b:
		return a < b
	case aerr == nil && berr != nil:
		return true
	case aerr != nil && berr == nil:
		return false
	}
	return j.Path < k.Path
}

// FileWriter is a line-oriented job file. Full buffers are written by a
// background goroutine, so the file system's time overlaps with the caller's
// work on another core; at most two buffers are in memory.
type FileWriter struct {
	f    *os.File
	path string
	buf  []byte
	full chan []byte
	free chan []byte
	done chan error
	// synced is the result of the sync that Finish started.
	synced chan error
	// direct: the file is open with O_DIRECT (CreateDirect), so every
	// buffer but the last is written full.
	direct bool
	Rows   int64
	Bytes  int64
}

const fileBufSize = 1 << 20

// Create opens a new job file.
func Create(path string) (*FileWriter, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	return newFileWriter(f, path, false, make([]byte, 0, fileBufSize), make([]byte, 0, fileBufSize)), nil
}

// newFileWriter writes f through two buffers, buf first; direct: f is open
// with O_DIRECT.
func newFileWriter(f *os.File, path string, direct bool, buf, spare []byte) *FileWriter {
	w := &FileWriter{f: f, path: path, direct: direct, buf: buf, full: make(chan []byte), free: make(chan []byte, 2), done: make(chan error, 1)}
	w.free <- spare
	go w.loop()
	return w
}

// Path is the file's path.
func (w *FileWriter) Path() string { return w.path }

func (w *FileWriter) loop() {
	var err error
	var written, flushed int64
	direct := w.direct
	for b := range w.full {
		if err == nil {
			if direct {
				err = w.writeDirect(b, written)
				if directio.Refused(err) {
					// Taken at open, refused at write: the rest goes
					// through the page cache, from where this write
					// started.
					if err = directio.ClearDirect(w.f); err == nil {
						if _, err = w.f.Seek(written, io.SeekStart); err == nil {
							_, err = w.f.Write(b)
						}
					}
					direct = false
				}
			} else {
				_, err = w.f.Write(b)
			}
			written += int64(len(b))
		}
		w.free <- b[:0]
		if err == nil && !direct && written-flushed >= flushAfter {
			// Start writing back what is written so far without waiting
			// for it, as PostgreSQL's backend_flush_after and RocksDB's
			// bytes_per_sync do: dirty pages then never pile up into
			// the kernel's throttling, and the final fsync has little
			// left to wait for.
			startWriteback(w.f, flushed, written-flushed)
			flushed = written
		}
	}
	w.done <- err
}

// flushAfter is how many written bytes start their write-back.
const flushAfter = 32 << 20

// WriteLine writes one line (the newline is added).
func (w *FileWriter) WriteLine(b []byte) error {
	w.Rows++
	if w.direct {
		// Lines run across buffers: a direct write must be whole blocks.
		_, _ = w.Write(b)
		if len(w.buf) == cap(w.buf) {
			w.full <- w.buf
			w.buf = <-w.free
		}
		w.buf = append(w.buf, '\n')
		w.Bytes++
		return nil
	}
	w.Bytes += int64(len(b)) + 1
	if len(w.buf)+len(b)+1 > cap(w.buf) && len(w.buf) > 0 {
		w.full <- w.buf
		w.buf = <-w.free
	}
	w.buf = append(w.buf, b...)
	w.buf = append(w.buf, '\n')
	return nil
}

// Write implements io.Writer, for job files that are not lines (Parquet).
// Errors of the background writes are returned by Close.
func (w *FileWriter) Write(b []byte) (int, error) {
	n := len(b)
	w.Bytes += int64(n)
	for len(b) > 0 {
		if len(w.buf) == cap(w.buf) {
			w.full <- w.buf
			w.buf = <-w.free
		}
		k := copy(w.buf[len(w.buf):cap(w.buf)], b)
		w.buf = w.buf[:len(w.buf)+k]
		b = b[k:]
	}
	return n, nil
}

// Close flushes, syncs and closes the file, returning the first error.
func (w *FileWriter) Close() error {
	if err := w.flush(); err != nil {
		_ = w.f.Close()
		return err
	}
	return w.syncClose()
}

// Finish writes what is buffered and returns; the file is synced and
// closed in the background, and Wait returns how that went. The file's
// bytes are complete for readers when Finish returns (a job file can be
// loaded right away); Wait must return before the file is committed, so
// that a crash of the machine cannot leave a committed file short. Syncing
// on the writer's goroutine made normalizing wait for the disk.
func (w *FileWriter) Finish() error {
	w.synced = make(chan error, 1)
	if err := w.flush(); err != nil {
		_ = w.f.Close()
		w.synced <- err
		return err
	}
	go func() { w.synced <- w.syncClose() }()
	return nil
}

// Wait waits for the sync and close that Finish started.
func (w *FileWriter) Wait() error {
	err := <-w.synced
	w.synced <- err // Wait may be called again
	return err
}

// flush writes the buffered bytes and stops the writing goroutine.
func (w *FileWriter) flush() error {
	if len(w.buf) > 0 {
		w.full <- w.buf
		w.buf = nil
	}
	close(w.full)
	return <-w.done
}

func (w *FileWriter) syncClose() error {
	err := w.f.Sync()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// ReadHeader returns the column names in the first line of a CSV job file.
func ReadHeader(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	buf := make([]byte, 64<<10)
	var line []byte
	for {
		n, err := f.Read(buf)
		line = append(line, buf[:n]...)
		if i := bytesIndexNewline(line); i >= 0 {
			return strings.Split(string(line[:i]), ","), nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: no header line", path)
		}
	}
}

func bytesIndexNewline(b []byte) int {
	for i, c := range b {
		if c == '\n' {
			return i
		}
	}
	return -1
}
