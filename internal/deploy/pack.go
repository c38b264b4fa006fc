// Package deploy builds what `dlthub deploy` sends: the workspace's code as
// a deterministic tar.gz with a per-file hash list, so unchanged code has an
// unchanged content hash and the server can skip it.
package deploy

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dustin/go-humanize"
	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
)

// DefaultMaxBytes is the default limit on the code's total size.
const DefaultMaxBytes = 100 << 20

// DefaultMaxFiles is the default limit on the number of files in a
// package: a workspace's code is rarely more than a few thousand, and each
// file costs the server memory when it checks or lists a package.
const DefaultMaxFiles = 20000

// File is one packaged file.
type File struct {
	Path   string      `json:"path"` // slash-separated, relative to the root
	Size   int64       `json:"size"`
	Mode   fs.FileMode `json:"mode"` // 0644 or 0755
	SHA256 string      `json:"sha256"`
	// content is a file the deploy adds that is not in the workspace
	// (AddFile).
	content []byte
}

// Package is the file list of a workspace and its content hash.
type Package struct {
	Root  string `json:"-"`
	Files []File `json:"files"`
	Size  int64  `json:"size"`
	// Hash covers paths, modes and contents: equal hashes, equal code.
	Hash string `json:"hash"`
	// Skipped lists symlinks left out, with why.
	Skipped []string `json:"skipped,omitempty"`
}

// Options tune Scan.
type Options struct {
	// ConfigFolder is excluded (".dlt": configuration is synced apart, and
	// secrets must never travel with the code).
	ConfigFolder string
	// MaxBytes limits the total size; 0 is DefaultMaxBytes.
	MaxBytes int64
	// MaxFiles limits the number of files; 0 is DefaultMaxFiles.
	MaxFiles int
}

// TooLargeError names the largest files when the code is over the limit.
type TooLargeError struct {
	Size, Max int64
	Largest   []File
}

func (e *TooLargeError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the code is %s, over the %s limit; the largest files:", humanize.IBytes(uint64(e.Size)), humanize.IBytes(uint64(e.Max)))
	for _, f := range e.Largest {
		fmt.Fprintf(&b, "\n  %10s  %s", humanize.IBytes(uint64(f.Size)), f.Path)
	}
	b.WriteString("\nadd them to .gitignore (data belongs in a destination or bucket) and deploy again")
	return b.String()
}

// TooManyFilesError names the directories with the most files when the
// code has more files than the limit.
type TooManyFilesError struct {
	Files, Max int
	// Largest are directories (slash-separated, "." for the top) with
	// how many files each holds, nested ones included, most first.
	Largest []DirCount
}

// DirCount is a directory and the number of files under it.
type DirCount struct {
	Dir   string
	Files int
}

func (e *TooManyFilesError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the code has %s files, over the limit of %s files; the directories with the most:", humanize.Comma(int64(e.Files)), humanize.Comma(int64(e.Max)))
	for _, d := range e.Largest {
		fmt.Fprintf(&b, "\n  %10s  %s/", humanize.Comma(int64(d.Files)), d.Dir)
	}
	b.WriteString("\nadd them to .gitignore (data and generated files do not belong in the code) and deploy again")
	return b.String()
}

// largestDirs picks up to n directories with the most files, leaving out
// those inside one already picked.
func largestDirs(counts map[string]int, n int) []DirCount {
	all := make([]DirCount, 0, len(counts))
	for d, c := range counts {
		all = append(all, DirCount{Dir: d, Files: c})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].Files != all[j].Files {
			return all[i].Files > all[j].Files
		}
		return all[i].Dir < all[j].Dir
	})
	var out []DirCount
	for _, d := range all {
		inside := false
		for _, o := range out {
			if strings.HasPrefix(d.Dir, o.Dir+"/") {
				inside = true
				break
			}
		}
		if !inside {
			out = append(out, d)
		}
		if len(out) == n {
			break
		}
	}
	return out
}

// Scan lists the files to deploy under root: everything except .git, the
// config folder and what .gitignore files exclude (with git's semantics,
// nested files included). Symlinks to files inside root are packaged as the
// file they point to; symlinks leaving root, and symlinked directories, are
// skipped and reported.
func Scan(root string, opts Options) (*Package, error) {
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	if opts.ConfigFolder == "" {
		opts.ConfigFolder = ".dlt"
	}
	if opts.MaxBytes == 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.MaxFiles == 0 {
		opts.MaxFiles = DefaultMaxFiles
	}
	p := &Package{Root: root}
	// Past the file limit the rest is only counted (per directory, for
	// the error), not hashed.
	files := 0
	var dirFiles map[string]int
	count := func(rel string) {
		files++
		if files <= opts.MaxFiles {
			return
		}
		if dirFiles == nil {
			dirFiles = map[string]int{}
			for _, f := range p.Files {
				for d := filepath.ToSlash(filepath.Dir(f.Path)); d != "."; d = filepath.ToSlash(filepath.Dir(d)) {
					dirFiles[d]++
				}
			}
		}
		for d := filepath.ToSlash(filepath.Dir(rel)); d != "."; d = filepath.ToSlash(filepath.Dir(d)) {
			dirFiles[d]++
		}
	}
	var patterns []gitignore.Pattern
	if _, err := os.Stat(filepath.Join(root, ".gitignore")); errors.Is(err, fs.ErrNotExist) {
		for _, line := range fallbackIgnores() {
			patterns = append(patterns, gitignore.ParsePattern(line, nil))
		}
	}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		parts := strings.Split(rel, "/")
		if d.IsDir() {
			if rel == "." {
				parts = nil
			} else if rel == ".git" || rel == opts.ConfigFolder || gitignore.NewMatcher(patterns).Match(parts, true) {
				return filepath.SkipDir
			}
			ps, err := readIgnore(filepath.Join(path, ".gitignore"), parts)
			if err != nil {
				return err
			}
			patterns = append(patterns, ps...)
			return nil
		}
		if gitignore.NewMatcher(patterns).Match(parts, false) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return fmt.Errorf("stat %s: %w", rel, err)
		}
		src := path
		if info.Mode()&fs.ModeSymlink != 0 {
			target, err := filepath.EvalSymlinks(path)
			if err != nil {
				p.Skipped = append(p.Skipped, rel+": broken symlink")
				return nil
			}
			if r, err := filepath.Rel(root, target); err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
				p.Skipped = append(p.Skipped, rel+": symlink leaves the workspace ("+target+")")
				return nil
			}
			if info, err = os.Stat(target); err != nil || info.IsDir() {
				p.Skipped = append(p.Skipped, rel+": symlinked directory")
				return nil
			}
			src = target
		} else if !info.Mode().IsRegular() {
			p.Skipped = append(p.Skipped, rel+": not a regular file")
			return nil
		}
		if count(rel); files > opts.MaxFiles {
			return nil
		}
		sum, err := hashFile(src)
		if err != nil {
			return err
		}
		mode := fs.FileMode(0o644)
		if info.Mode().Perm()&0o100 != 0 {
			mode = 0o755
		}
		p.Files = append(p.Files, File{Path: rel, Size: info.Size(), Mode: mode, SHA256: sum})
		p.Size += info.Size()
		return nil
	})
	if err != nil {
		return nil, err
	}
	if files > opts.MaxFiles {
		return nil, &TooManyFilesError{Files: files, Max: opts.MaxFiles, Largest: largestDirs(dirFiles, 5)}
	}
	if p.Size > opts.MaxBytes {
		largest := append([]File{}, p.Files...)
		sort.Slice(largest, func(i, j int) bool { return largest[i].Size > largest[j].Size })
		return nil, &TooLargeError{Size: p.Size, Max: opts.MaxBytes, Largest: largest[:min(5, len(largest))]}
	}
	p.Hash = contentHash(p.Files)
	return p, nil
}

// fallbackIgnores are dlt's own (file_selector.DEFAULT_IGNORES), used as
// dlt uses them: when the workspace has no .gitignore, so a virtual
// environment or caches never ship.
func fallbackIgnores() []string {
	return []string{"__pycache__/", "*.py[cod]", ".venv/", "venv/", "dist/", "build/", "*.egg-info/",
		".mypy_cache/", ".ruff_cache/", ".pytest_cache/", ".coverage", "htmlcov/", "*.so", ".DS_Store", ".env"}
}

// AddFile adds a file that is not in the workspace (what the deploy
// generates, such as the exported Python requirements) at path, replacing
// a workspace file of that path.
func (p *Package) AddFile(path string, content []byte) {
	sum := sha256.Sum256(content)
	f := File{Path: path, Size: int64(len(content)), Mode: 0o644, SHA256: hex.EncodeToString(sum[:]), content: content}
	for i, old := range p.Files {
		if old.Path == path {
			p.Size -= old.Size
			p.Files = append(p.Files[:i], p.Files[i+1:]...)
			break
		}
	}
	p.Files = append(p.Files, f)
	p.Size += f.Size
	p.Hash = contentHash(p.Files)
}

// contentHash sorts files by path and hashes paths, modes and contents.
func contentHash(files []File) string {
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	h := sha256.New()
	for _, f := range files {
		fmt.Fprintf(h, "%s\x00%o\x00%s\n", f.Path, f.Mode, f.SHA256)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func readIgnore(path string, domain []string) ([]gitignore.Pattern, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer func() { _ = f.Close() }()
	var ps []gitignore.Pattern
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		ps = append(ps, gitignore.ParsePattern(line, domain))
	}
	return ps, sc.Err()
}

func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	defer func() { _ = f.Close() }()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// WriteTarGz writes the package as a tar.gz: files in path order with
// fixed times and owners, so equal packages give equal bytes. A file that
// changed since Scan fails the write rather than shipping a hash that lies.
func (p *Package) WriteTarGz(w io.Writer) error {
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	for _, f := range p.Files {
		if err := p.writeFile(tw, f); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

func (p *Package) writeFile(tw *tar.Writer, f File) error {
	if f.content != nil {
		if err := tw.WriteHeader(&tar.Header{Name: f.Path, Mode: int64(f.Mode), Size: f.Size, Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
			return err
		}
		_, err := tw.Write(f.content)
		return err
	}
	src, err := filepath.EvalSymlinks(filepath.Join(p.Root, filepath.FromSlash(f.Path)))
	if err != nil {
		return fmt.Errorf("read %s: %w", f.Path, err)
	}
	fh, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("read %s: %w", f.Path, err)
	}
	defer func() { _ = fh.Close() }()
	if err := tw.WriteHeader(&tar.Header{Name: f.Path, Mode: int64(f.Mode), Size: f.Size, Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
		return err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tw, h), io.LimitReader(fh, f.Size+1))
	if errors.Is(err, tar.ErrWriteTooLong) {
		return fmt.Errorf("%s changed while packaging; deploy again", f.Path)
	}
	if err != nil {
		return fmt.Errorf("package %s: %w", f.Path, err)
	}
	if n != f.Size || hex.EncodeToString(h.Sum(nil)) != f.SHA256 {
		return fmt.Errorf("%s changed while packaging; deploy again", f.Path)
	}
	return nil
}
