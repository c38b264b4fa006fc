package deploy

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, root, rel, content string, mode os.FileMode) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

func paths(p *Package) string {
	var out []string
	for _, f := range p.Files {
		out = append(out, f.Path)
	}
	return strings.Join(out, " ")
}

func workspace(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	write(t, root, ".gitignore", "# data stays home\n*.log\n!keep.log\ndata/\n/build\n", 0o644)
	write(t, root, "dlthub.toml", "[jobs.a.b]\n", 0o644)
	write(t, root, "run.sh", "#!/bin/sh\n", 0o755)
	write(t, root, "debug.log", "x", 0o644)
	write(t, root, "keep.log", "k", 0o644)
	write(t, root, "data/big.parquet", "p", 0o644)
	write(t, root, "build/out", "o", 0o644)
	write(t, root, "pipelines/build/x.toml", "nested build is not /build", 0o644)
	write(t, root, "pipelines/gh.toml", "name = 1\n", 0o644)
	write(t, root, "pipelines/.gitignore", "local.toml\n", 0o644)
	write(t, root, "pipelines/local.toml", "l", 0o644)
	write(t, root, "local.toml", "not ignored at the top", 0o644)
	write(t, root, ".dlt/secrets.toml", "password = \"s3cret\"\n", 0o600)
	write(t, root, ".git/config", "[core]\n", 0o644)
	outside := filepath.Join(t.TempDir(), "elsewhere.txt")
	_ = os.WriteFile(outside, []byte("e"), 0o644)
	_ = os.Symlink(outside, filepath.Join(root, "outside-link"))
	_ = os.Symlink("pipelines/gh.toml", filepath.Join(root, "gh-link.toml"))
	return root
}

func TestScanFollowsGitignoreAndSkipsConfig(t *testing.T) {
	root := workspace(t)
	p, err := Scan(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := ".gitignore dlthub.toml gh-link.toml keep.log local.toml pipelines/.gitignore pipelines/build/x.toml pipelines/gh.toml run.sh"
	if got := paths(p); got != want {
		t.Errorf("files:\n got %s\nwant %s", got, want)
	}
	if len(p.Skipped) != 1 || !strings.Contains(p.Skipped[0], "outside-link: symlink leaves the workspace") {
		t.Errorf("skipped: %v", p.Skipped)
	}
	for _, f := range p.Files {
		if f.Path == "run.sh" && f.Mode != 0o755 || f.Path == "dlthub.toml" && f.Mode != 0o644 {
			t.Errorf("%s mode %o", f.Path, f.Mode)
		}
	}

	// Same content, same hash and bytes; a change moves the hash.
	p2, _ := Scan(root, Options{})
	var a, b bytes.Buffer
	if err := p.WriteTarGz(&a); err != nil {
		t.Fatal(err)
	}
	_ = p2.WriteTarGz(&b)
	if p.Hash != p2.Hash || !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("packaging is not deterministic")
	}
	write(t, root, "pipelines/gh.toml", "name = 2\n", 0o644)
	if p3, _ := Scan(root, Options{}); p3.Hash == p.Hash {
		t.Error("hash ignores content")
	}
	// Ignored and config files do not change the hash.
	write(t, root, "debug.log", "more", 0o644)
	write(t, root, ".dlt/secrets.toml", "password = \"other\"\n", 0o600)
	p4, _ := Scan(root, Options{})
	p5, _ := Scan(root, Options{})
	if p4.Hash != p5.Hash {
		t.Error("unstable hash")
	}

	// The archive holds the files with their content; no secret inside.
	zr, err := gzip.NewReader(bytes.NewReader(a.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var names []string
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		if bytes.Contains(body, []byte("s3cret")) {
			t.Errorf("%s holds a secret", h.Name)
		}
		if h.Name == "gh-link.toml" && string(body) != "name = 1\n" {
			t.Errorf("symlink content %q", body)
		}
		names = append(names, h.Name)
	}
	if strings.Join(names, " ") != want {
		t.Errorf("archive: %v", names)
	}
}

func TestScanSizeLimitNamesLargestFiles(t *testing.T) {
	root := t.TempDir()
	write(t, root, "a.csv", strings.Repeat("a", 3000), 0o644)
	write(t, root, "b.txt", strings.Repeat("b", 10), 0o644)
	_, err := Scan(root, Options{MaxBytes: 1000})
	var tl *TooLargeError
	if !errors.As(err, &tl) || tl.Largest[0].Path != "a.csv" || !strings.Contains(err.Error(), "a.csv") || !strings.Contains(err.Error(), ".gitignore") {
		t.Errorf("%v", err)
	}
}

func TestWriteDetectsChangedFile(t *testing.T) {
	root := t.TempDir()
	write(t, root, "a.py", "print(1)\n", 0o644)
	p, _ := Scan(root, Options{})
	write(t, root, "a.py", "print(2)\n", 0o644)
	if err := p.WriteTarGz(io.Discard); err == nil || !strings.Contains(err.Error(), "a.py changed while packaging") {
		t.Errorf("%v", err)
	}
	write(t, root, "a.py", "print(22)\n", 0o644)
	if err := p.WriteTarGz(io.Discard); err == nil || !strings.Contains(err.Error(), "a.py changed") {
		t.Errorf("grown file: %v", err)
	}
}

func TestReadTarGzRoundTripAndRejects(t *testing.T) {
	root := workspace(t)
	p, _ := Scan(root, Options{})
	var buf bytes.Buffer
	_ = p.WriteTarGz(&buf)
	got, err := ReadTarGz(bytes.NewReader(buf.Bytes()), DefaultMaxBytes)
	if err != nil || got.Hash != p.Hash || paths(got) != paths(p) {
		t.Fatalf("round trip: %v %s vs %s", err, got.Hash, p.Hash)
	}
	// Extracted, the files scan to the same package (contents and modes).
	out := t.TempDir()
	if x, err := Extract(bytes.NewReader(buf.Bytes()), out, DefaultMaxBytes); err != nil || x.Hash != p.Hash {
		t.Fatalf("extract: %v", err)
	}
	if again, err := Scan(out, Options{}); err != nil || again.Hash != p.Hash || paths(again) != paths(p) {
		t.Errorf("extracted files differ: %v %s vs %s", err, paths(again), paths(p))
	}
	// Truncated, garbage, too big.
	for name, data := range map[string][]byte{
		"truncated": buf.Bytes()[:buf.Len()/2],
		"garbage":   []byte("not a package"),
	} {
		if _, err := ReadTarGz(bytes.NewReader(data), DefaultMaxBytes); !errors.Is(err, ErrInvalidPackage) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := ReadTarGz(bytes.NewReader(buf.Bytes()), 10); !errors.Is(err, ErrInvalidPackage) || !strings.Contains(err.Error(), "limit") {
		t.Errorf("too big: %v", err)
	}
	// Hand-made archives with unsafe entries.
	for _, name := range []string{"../escape", "/abs", ".dlt/secrets.toml", "a/../../b"} {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		tw := tar.NewWriter(zw)
		_ = tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: 1, Typeflag: tar.TypeReg})
		_, _ = tw.Write([]byte("x"))
		_ = tw.Close()
		_ = zw.Close()
		if _, err := ReadTarGz(&b, DefaultMaxBytes); !errors.Is(err, ErrInvalidPackage) {
			t.Errorf("%s accepted: %v", name, err)
		}
	}
}
