package deploy

import (
	"fmt"
	"strings"
	"testing"
)

// TestSizeWarning: a package over 10 MiB, or with a file over 5 MiB, gets a
// warning naming its five largest files with their sizes and .gitignore;
// small code gets none.
func TestSizeWarning(t *testing.T) {
	pkg := func(sizes ...int64) *Package {
		p := &Package{}
		for i, s := range sizes {
			p.Files = append(p.Files, File{Path: fmt.Sprintf("f%d", i), Size: s})
			p.Size += s
		}
		return p
	}
	const mib = 1 << 20
	cases := []struct {
		name string
		p    *Package
		want []string // "" : no warning
	}{
		{"small", pkg(1000, 2*mib, 3*mib), nil},
		{"exactly at the limits", pkg(5*mib, 5*mib), nil},
		{"one data file", pkg(47*mib, 100, 2000), []string{"the code to deploy is 47 MiB in 3 files", "\n      47 MiB  f0\n", "\n     2.0 KiB  f2\n", "\n       100 B  f1\n", "add such files to .gitignore", "more than 10 MiB in all, or a file over 5 MiB"}},
		{"many medium files", pkg(3*mib, 3*mib, 3*mib, 3*mib, 1*mib, 4*mib), []string{"the code to deploy is 17 MiB in 6 files", "\n     4.0 MiB  f5\n", "\n     3.0 MiB  f0\n"}},
	}
	for _, tc := range cases {
		got := tc.p.SizeWarning()
		if (got == "") != (tc.want == nil) {
			t.Errorf("%s: warning %q", tc.name, got)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: lacks %q:\n%s", tc.name, w, got)
			}
		}
		if n := strings.Count(got, "\n  "); n > 5 {
			t.Errorf("%s: %d files listed", tc.name, n)
		}
	}
}

// TestSizeWarningWithoutGitignore: without a .gitignore at the top, the
// warning says that making one drops dlt's default ignores.
func TestSizeWarningWithoutGitignore(t *testing.T) {
	root := t.TempDir()
	p := &Package{Root: root, Files: []File{{Path: "big.csv", Size: 6 << 20}}, Size: 6 << 20}
	if w := p.SizeWarning(); !strings.Contains(w, "no .gitignore at the top yet") || !strings.Contains(w, ".venv/") {
		t.Errorf("no .gitignore: %s", w)
	}
	write(t, root, ".gitignore", "*.parquet\n", 0o644)
	if w := p.SizeWarning(); strings.Contains(w, "no .gitignore") {
		t.Errorf("with .gitignore: %s", w)
	}
}
