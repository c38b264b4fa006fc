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
	"path"
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
		sum := sha256.New()
		n, err := io.Copy(sum, tr)
		if err != nil {
			return nil, fmt.Errorf("%w: corrupt archive at %s: %w", ErrInvalidPackage, name, err)
		}
		mode := fs.FileMode(0o644)
		if h.Mode&0o100 != 0 {
			mode = 0o755
		}
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
