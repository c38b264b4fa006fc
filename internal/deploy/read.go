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
// paths that are absolute, climb out or repeat, anything under the config
// folder, and more than max bytes of content.
func ReadTarGz(r io.Reader, max int64) (*Package, error) {
	return readTarGz(r, max, nil)
}

// Extract checks a package as ReadTarGz does and writes its files under
// dir (which must exist), with their modes. A package that fails the
// checks may have written some files; the caller removes dir.
func Extract(r io.Reader, dir string, max int64) (*Package, error) {
	return readTarGz(r, max, func(name string, mode fs.FileMode, body io.Reader) error {
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

// readTarGz checks a package; write, when set, receives each file's body.
func readTarGz(r io.Reader, max int64, write func(name string, mode fs.FileMode, body io.Reader) error) (*Package, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("%w: not gzip: %w", ErrInvalidPackage, err)
	}
	tr := tar.NewReader(zr)
	p := &Package{}
	seen := map[string]bool{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: corrupt archive: %w", ErrInvalidPackage, err)
		}
		name := h.Name
		if h.Typeflag != tar.TypeReg {
			return nil, fmt.Errorf("%w: %s is not a regular file", ErrInvalidPackage, name)
		}
		if name == "" || path.IsAbs(name) || path.Clean(name) != name || name == ".." || strings.HasPrefix(name, "../") {
			return nil, fmt.Errorf("%w: unsafe path %q", ErrInvalidPackage, name)
		}
		if name == ".dlt" || strings.HasPrefix(name, ".dlt/") || strings.HasPrefix(name, ".git/") {
			return nil, fmt.Errorf("%w: %s must not be deployed with the code", ErrInvalidPackage, name)
		}
		if seen[name] {
			return nil, fmt.Errorf("%w: %s appears twice", ErrInvalidPackage, name)
		}
		seen[name] = true
		if p.Size+h.Size > max {
			return nil, fmt.Errorf("%w: over the %s limit", ErrInvalidPackage, humanize.IBytes(uint64(max)))
		}
		mode := fs.FileMode(0o644)
		if h.Mode&0o100 != 0 {
			mode = 0o755
		}
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
	// Drain the gzip trailer so a truncated stream fails its checksum.
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return nil, fmt.Errorf("%w: corrupt archive: %w", ErrInvalidPackage, err)
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
