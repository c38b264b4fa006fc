package deploy

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// tarGzOf packs n empty files (f0, f1, …) as tar.gz; each may carry a
// PAX record of pax bytes.
func tarGzOf(t *testing.T, n, pax int) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	tw := tar.NewWriter(zw)
	for i := range n {
		h := &tar.Header{Name: fmt.Sprintf("d%d/f%d", i%7, i), Mode: 0o644, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if pax > 0 {
			h.PAXRecords = map[string]string{"DLTHUB.comment": strings.Repeat("z", pax)}
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Issue 11: a package of 2 million empty files took 742 MB to check. The
// number of files is limited (DefaultMaxFiles, or the server's), on upload
// and on checkout alike.
func TestFileCountLimited(t *testing.T) {
	ok := tarGzOf(t, 10, 0)
	over := tarGzOf(t, 11, 0)
	lim := Limits{MaxBytes: DefaultMaxBytes, MaxFiles: 10}
	if p, err := ReadTarGzLimits(bytes.NewReader(ok), lim); err != nil || len(p.Files) != 10 {
		t.Fatalf("10 files under a limit of 10: %v", err)
	}
	_, err := ReadTarGzLimits(bytes.NewReader(over), lim)
	if !errors.Is(err, ErrInvalidPackage) || !strings.Contains(err.Error(), "more than 10 files") {
		t.Errorf("11 files under a limit of 10: %v", err)
	}
	dir := t.TempDir()
	if _, err := ExtractLimits(bytes.NewReader(over), dir, lim); !errors.Is(err, ErrInvalidPackage) {
		t.Errorf("extract of 11 files under a limit of 10: %v", err)
	}
	// The default applies without a limit given.
	_, err = ReadTarGz(bytes.NewReader(tarGzOf(t, DefaultMaxFiles+1, 0)), DefaultMaxBytes)
	if !errors.Is(err, ErrInvalidPackage) || !strings.Contains(err.Error(), "more than 20,000 files") {
		t.Errorf("%d files: %v", DefaultMaxFiles+1, err)
	}
}

// Issue 11: the decompressed stream is bounded, not only the files' sizes:
// headers of empty members (PAX records of up to a MiB each) are not
// inflated without end.
func TestHeadersBounded(t *testing.T) {
	if _, err := ReadTarGz(bytes.NewReader(tarGzOf(t, 3, 4096)), DefaultMaxBytes); err != nil {
		t.Fatalf("a few KiB of PAX records refused: %v", err)
	}
	data := tarGzOf(t, 200, 512<<10) // 100 MiB of headers, no content
	r := &countingReader{r: bytes.NewReader(data)}
	_, err := ReadTarGz(r, DefaultMaxBytes)
	if !errors.Is(err, ErrInvalidPackage) || !strings.Contains(err.Error(), "headers") {
		t.Fatalf("100 MiB of headers: %v", err)
	}
	if r.n > int64(len(data))/10 {
		t.Errorf("read %d of %d bytes to refuse it", r.n, len(data))
	}
}

// Issue 11: deploy says the same before uploading, naming the directories
// with the most files.
func TestScanFileLimitNamesLargestDirectories(t *testing.T) {
	root := t.TempDir()
	for i := range 8 {
		write(t, root, fmt.Sprintf("out/gen/%d.json", i), "{}", 0o644)
	}
	for i := range 3 {
		write(t, root, fmt.Sprintf("src/%d.py", i), "", 0o644)
	}
	write(t, root, "dlthub.toml", "", 0o644)
	_, err := Scan(root, Options{MaxFiles: 10})
	var tm *TooManyFilesError
	if !errors.As(err, &tm) || tm.Files != 12 || tm.Max != 10 {
		t.Fatalf("12 files, limit 10: %v", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "12 files, over the limit of 10") || !strings.Contains(msg, "8  out/") || !strings.Contains(msg, "3  src/") ||
		strings.Contains(msg, "out/gen/") || strings.Index(msg, "out/") > strings.Index(msg, "src/") {
		t.Errorf("message:\n%s", msg)
	}
	if p, err := Scan(root, Options{MaxFiles: 12}); err != nil || len(p.Files) != 12 {
		t.Errorf("12 files, limit 12: %v", err)
	}
}
