package deploy

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dustin/go-humanize"
)

// Above these sizes a deploy warns that the code seems to hold data: the
// whole package, or any one file.
const (
	WarnPackageBytes = 10 << 20
	WarnFileBytes    = 5 << 20
)

// Largest returns up to n of the package's files, the largest first.
func (p *Package) Largest(n int) []File {
	out := append([]File{}, p.Files...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Size != out[j].Size {
			return out[i].Size > out[j].Size
		}
		return out[i].Path < out[j].Path
	})
	return out[:min(n, len(out))]
}

// SizeWarning is a warning for a package over WarnPackageBytes or with a
// file over WarnFileBytes: its size, its five largest files, and how to
// leave data out; "" when the package is small.
func (p *Package) SizeWarning() string {
	largest := p.Largest(5)
	if p.Size <= WarnPackageBytes && (len(largest) == 0 || largest[0].Size <= WarnFileBytes) {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "the code to deploy is %s in %d files (more than %d MiB in all, or a file over %d MiB, is likely data); the largest files:",
		humanize.IBytes(uint64(p.Size)), len(p.Files), WarnPackageBytes>>20, WarnFileBytes>>20)
	for _, f := range largest {
		fmt.Fprintf(&b, "\n  %10s  %s", humanize.IBytes(uint64(f.Size)), f.Path)
	}
	b.WriteString("\ndata belongs in a destination or a bucket: add such files to .gitignore (deploy honours every .gitignore in the workspace, " +
		"nested ones too; .git and the .dlt folder never ship) and deploy again")
	if p.Root != "" {
		if _, err := os.Stat(filepath.Join(p.Root, ".gitignore")); errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(&b, "; there is no .gitignore at the top yet, and once there is, dlt's default ignores (%s) no longer apply, so list them too",
				strings.Join(fallbackIgnores(), " "))
		}
	}
	return b.String()
}
