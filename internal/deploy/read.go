package deploy

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/dustin/go-humanize"
)

// ErrInvalidPackage marks an upload that is not a package deploy made.
var ErrInvalidPackage = errors.New("invalid package")

// ReadTarGz checks an uploaded package and returns its file list and
// content hash, computed from the bytes received (never trusted from the
// client). It rejects corrupt archives, entries other than regular files,
// paths that are absolute, climb out or repeat, a path that is both a file
// and a directory, a name longer than 255 bytes (none of which could be
// checked out), anything under the config folder, more than max bytes of
// content and more than a little data after the archive's end.
func ReadTarGz(r io.Reader, max int64) (*Package, error) {
	return ReadTarGzLimits(r, Limits{MaxBytes: max})
}

// Limits bound what ReadTarGzLimits and ExtractLimits accept.
type Limits struct {
	// MaxBytes bounds the files' total size.
	MaxBytes int64
	// MaxFiles bounds the number of files; 0 is DefaultMaxFiles.
	MaxFiles int
}

// ReadTarGzLimits is ReadTarGz with a file-count limit as well.
func ReadTarGzLimits(r io.Reader, lim Limits) (*Package, error) {
	return readTarGz(r, lim, nil)
}

// Extract checks a package as ReadTarGz does and writes its files under
// dir (which must exist), with their modes. A package that fails the
// checks may have written some files; the caller removes dir.
func Extract(r io.Reader, dir string, max int64) (*Package, error) {
	return ExtractLimits(r, dir, Limits{MaxBytes: max})
}

// ExtractLimits is Extract with a file-count limit as well.
func ExtractLimits(r io.Reader, dir string, lim Limits) (*Package, error) {
	return readTarGz(r, lim, func(name string, mode fs.FileMode, body io.Reader) error {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
		if err != nil {
			return err
		}
		if _, err := io.Copy(f, body); err != nil {
			_ = f.Close()
			return err
		}
		return f.Close()
	})
}

// maxTrailing bounds the bytes after the end of the tar archive (its
// padding: tar rounds archives up to 10 KiB records).
const maxTrailing = 64 << 10

// maxNameLen is the longest file name a checkout can hold (NAME_MAX).
const maxNameLen = 255

// maxHeaderBytes bounds the decompressed bytes of one member's headers
// (its 512-byte header, PAX or GNU long-name records, padding): a path is
// at most a few KiB, while tar allows a MiB of records per member.
const maxHeaderBytes = 16 << 10

// FileLimitError refuses a package with more files than the limit; it
// comes wrapped with ErrInvalidPackage.
type FileLimitError struct{ Max int }

func (e *FileLimitError) Error() string {
	return fmt.Sprintf("more than %s files, the limit", humanize.Comma(int64(e.Max)))
}

// readTarGz checks a package; write, when set, receives each file's body.
// The decompressed stream is bounded too, not only the files' sizes: each
// member may add maxHeaderBytes of headers, and maxTrailing may follow the
// archive's end.
func readTarGz(r io.Reader, lim Limits, write func(name string, mode fs.FileMode, body io.Reader) error) (*Package, error) {
	max := lim.MaxBytes
	if lim.MaxFiles <= 0 {
		lim.MaxFiles = DefaultMaxFiles
	}
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("%w: not gzip: %w", ErrInvalidPackage, err)
	}
	br := &boundedReader{r: zr}
	tr := tar.NewReader(br)
	p := &Package{}
	seen := map[string]bool{}
	dirs := map[string]bool{} // parents of the files so far
	for {
		br.limit = br.n + maxHeaderBytes
		h, err := tr.Next()
		if br.over {
			return nil, fmt.Errorf("%w: a member's headers are over %s", ErrInvalidPackage, humanize.IBytes(maxHeaderBytes))
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: corrupt archive: %w", ErrInvalidPackage, err)
		}
		if len(p.Files) >= lim.MaxFiles {
			return nil, fmt.Errorf("%w: %w", ErrInvalidPackage, &FileLimitError{Max: lim.MaxFiles})
		}
		name := h.Name
		if h.Typeflag != tar.TypeReg {
			return nil, fmt.Errorf("%w: %s is not a regular file", ErrInvalidPackage, name)
		}
		if name == "" || name == "." || path.IsAbs(name) || path.Clean(name) != name || name == ".." || strings.HasPrefix(name, "../") {
			return nil, fmt.Errorf("%w: unsafe path %q", ErrInvalidPackage, name)
		}
		if name == ".dlt" || strings.HasPrefix(name, ".dlt/") || strings.HasPrefix(name, ".git/") {
			return nil, fmt.Errorf("%w: %s must not be deployed with the code", ErrInvalidPackage, name)
		}
		if seen[name] {
			return nil, fmt.Errorf("%w: %s appears twice", ErrInvalidPackage, name)
		}
		if dirs[name] {
			return nil, fmt.Errorf("%w: %s is both a file and a directory", ErrInvalidPackage, name)
		}
		for _, part := range strings.Split(name, "/") {
			if len(part) > maxNameLen {
				return nil, fmt.Errorf("%w: %s has a path component longer than %d bytes", ErrInvalidPackage, name, maxNameLen)
			}
		}
		for d := path.Dir(name); d != "."; d = path.Dir(d) {
			if seen[d] {
				return nil, fmt.Errorf("%w: %s is both a file and a directory", ErrInvalidPackage, d)
			}
			dirs[d] = true
		}
		seen[name] = true
		if p.Size+h.Size > max {
			return nil, fmt.Errorf("%w: over the %s limit", ErrInvalidPackage, humanize.IBytes(uint64(max)))
		}
		mode := fs.FileMode(0o644)
		if h.Mode&0o100 != 0 {
			mode = 0o755
		}
		br.limit = br.n + h.Size + maxHeaderBytes
		sum := sha256.New()
		counted := &countingReader{r: io.TeeReader(tr, sum)}
		if write != nil {
			if err := write(name, mode, counted); err != nil {
				return nil, fmt.Errorf("extract %s: %w", name, err)
			}
		}
		if _, err := io.Copy(io.Discard, counted); err != nil {
			return nil, fmt.Errorf("%w: corrupt archive at %s: %w", ErrInvalidPackage, name, err)
		}
		n := counted.n
		p.Files = append(p.Files, File{Path: name, Size: n, Mode: mode, SHA256: hex.EncodeToString(sum.Sum(nil))})
		p.Size += n
	}
	// Drain the gzip trailer so a truncated stream fails its checksum; tar
	// pads its end with a few KiB of zeros, but anything much longer would
	// be decompressed for nothing (a few KiB of gzip inflate to GiBs).
	br.limit = br.n + maxTrailing + 1
	n, err := io.Copy(io.Discard, io.LimitReader(br, maxTrailing+1))
	if err != nil {
		return nil, fmt.Errorf("%w: corrupt archive: %w", ErrInvalidPackage, err)
	}
	if n > maxTrailing {
		return nil, fmt.Errorf("%w: more than %s of data after the end of the archive", ErrInvalidPackage, humanize.IBytes(maxTrailing))
	}
	p.Hash = contentHash(p.Files)
	return p, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// errOverBound is what boundedReader returns past its limit.
var errOverBound = errors.New("over the bound")

// boundedReader fails once more than limit bytes were read in all.
type boundedReader struct {
	r     io.Reader
	n     int64
	limit int64
	over  bool
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.n >= b.limit {
		b.over = true
		return 0, errOverBound
	}
	if rest := b.limit - b.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	return n, err
}
