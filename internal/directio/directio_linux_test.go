package directio

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// OpenOnce reads a file that is not in the page cache directly and one
// that is through the page cache, and returns the same bytes either way.
func TestOpenOnceChoosesByCache(t *testing.T) {
	dir, err := os.MkdirTemp(cacheOrTemp(t), "directio")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	path := filepath.Join(dir, "records.jsonl")
	want := writeRandom(t, path, rand.New(rand.NewPCG(5, 6)), minDirect+Align+17)
	if err := Drop(path); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	if share, err := residentFraction(f, int64(len(want))); err != nil || share >= coldBelow {
		t.Skipf("the page cache kept %.0f %% of the file (%v)", 100*share, err)
	}
	cold := readOnce(t, path)
	if _, direct, err := OpenFile(filepath.Join(dir, "probe"), os.O_WRONLY|os.O_CREATE); err == nil && direct {
		if _, ok := cold.(*directReader); !ok {
			t.Errorf("a file out of the page cache was opened as %T, want a direct reader", cold)
		}
	}
	if got := readAll(t, cold); !bytes.Equal(got, want) {
		t.Fatalf("read directly: %d bytes, not the %d written", len(got), len(want))
	}

	// Read through the page cache: it now holds the file.
	if _, err := io.Copy(io.Discard, f); err != nil {
		t.Fatal(err)
	}
	if share, err := residentFraction(f, int64(len(want))); err != nil || share < coldBelow {
		t.Skipf("the page cache dropped the file again (%.0f %% left, %v)", 100*share, err)
	}
	warm := readOnce(t, path)
	if _, ok := warm.(*os.File); !ok {
		t.Errorf("a file in the page cache was opened as %T, want a plain file", warm)
	}
	if got := readAll(t, warm); !bytes.Equal(got, want) {
		t.Fatalf("read through the page cache: %d bytes, not the %d written", len(got), len(want))
	}

	// Small files are never read directly.
	small := filepath.Join(dir, "small.jsonl")
	writeRandom(t, small, rand.New(rand.NewPCG(7, 8)), 100)
	if r := readOnce(t, small); func() bool { _, ok := r.(*os.File); _ = r.Close(); return !ok }() {
		t.Errorf("a small file was read directly")
	}
}

func readOnce(t *testing.T, path string) io.ReadCloser {
	t.Helper()
	r, err := OpenOnce(path)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func readAll(t *testing.T, r io.ReadCloser) []byte {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	return b
}
