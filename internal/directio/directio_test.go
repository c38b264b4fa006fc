package directio

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// A reader closed before the end stops reading ahead (Close returns; the
// goroutine does not wait on a buffer nobody takes).
func TestDirectReaderClosedEarly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	writeRandom(t, path, rand.New(rand.NewPCG(3, 4)), 5*ReadBufSize)
	r, err := OpenSequential(path, 10, -1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Read(make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}

// A missing file is an error naming it, not a fallback.
func TestOpenSequentialMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing.jsonl")
	if _, err := OpenSequential(path, 0, -1); err == nil || !bytes.Contains([]byte(err.Error()), []byte("missing.jsonl")) {
		t.Fatalf("err = %v, want one naming the file", err)
	}
}

// ClearDirect turns a direct file into a buffered one, which takes writes
// and reads of any length and offset: the fallback when a file system
// takes O_DIRECT at open and refuses it later.
func TestClearDirect(t *testing.T) {
	dir, err := os.MkdirTemp(cacheOrTemp(t), "direct")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	path := filepath.Join(dir, "f")
	f, direct, err := OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	if !direct {
		t.Skip("the file system refused O_DIRECT at open")
	}
	if _, err := f.Write([]byte("x")); !Refused(err) {
		t.Fatalf("an unaligned direct write: %v, want EINVAL", err)
	}
	if err := ClearDirect(f); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("xyz")); err != nil {
		t.Fatalf("after clearDirect: %v", err)
	}
	b := make([]byte, 2)
	if n, err := pread(f, b, 1); err != nil || string(b[:n]) != "yz" {
		t.Fatalf("read back %q, %v", b[:n], err)
	}
}

// cacheOrTemp is a directory on a disk where there is one (see
// TestDirectRoundTrip).
func cacheOrTemp(t *testing.T) string {
	if cache, err := os.UserCacheDir(); err == nil && isDir(cache) {
		return cache
	}
	return t.TempDir()
}

// writeRandom writes size random bytes to path and returns them.
func writeRandom(t *testing.T, path string, rng *rand.Rand, size int) []byte {
	t.Helper()
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return b
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// OpenSequential returns any section of a file, from unaligned offsets
// too and whatever the file's length, directly where the file system
// allows it and through the page cache where it does not (tmpfs).
func TestOpenSequentialSections(t *testing.T) {
	dirs := map[string]string{"cache": cacheOrTemp(t)}
	if shm := "/dev/shm"; isDir(shm) {
		dirs["tmpfs"] = shm
	}
	rng := rand.New(rand.NewPCG(1, 2))
	sawDirect := false
	for fsName, parent := range dirs {
		dir, err := os.MkdirTemp(parent, "directio")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.RemoveAll(dir) })
		for _, size := range []int{0, 1, Align - 1, Align, Align + 1, ReadBufSize - 1, ReadBufSize, ReadBufSize + 1, 3*ReadBufSize + 123} {
			path := filepath.Join(dir, "f")
			want := writeRandom(t, path, rng, size)
			n := int64(size)
			sections := [][2]int64{{0, -1}, {0, n}, {n, -1}, {n / 2, n / 2}}
			for range 4 {
				a := rng.Int64N(n + 1)
				sections = append(sections, [2]int64{a, -1}, [2]int64{a, a + rng.Int64N(n-a+1)})
			}
			for _, s := range sections {
				r, err := OpenSequential(path, s[0], s[1])
				if err != nil {
					t.Fatal(err)
				}
				if d, ok := r.(*directReader); ok && d.direct {
					sawDirect = true
				}
				got, err := io.ReadAll(r)
				if err != nil {
					t.Fatalf("%s size %d section %v: %v", fsName, size, s, err)
				}
				end := s[1]
				if end < 0 {
					end = n
				}
				if !bytes.Equal(got, want[s[0]:end]) {
					t.Fatalf("%s size %d section %v: read %d bytes, not the %d there", fsName, size, s, len(got), end-s[0])
				}
				if err := r.Close(); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if runtime.GOOS == "linux" && !sawDirect {
		t.Errorf("no directory of %v took O_DIRECT: the direct path went untested", dirs)
	}
}
