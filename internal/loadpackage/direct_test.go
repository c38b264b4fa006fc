package loadpackage

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/dlthub/dlthub/internal/directio"
)

// Files written by CreateDirect hold exactly the bytes written, whatever
// their length (the last block is padded, then cut back), and
// OpenSequential returns any section of them, from unaligned offsets too.
func TestDirectRoundTrip(t *testing.T) {
	dirs := map[string]string{"disk": t.TempDir()}
	// tmpfs refuses O_DIRECT: the same calls fall back to the page cache.
	if shm := "/dev/shm"; isDir(shm) {
		d, err := os.MkdirTemp(shm, "direct")
		if err == nil {
			t.Cleanup(func() { _ = os.RemoveAll(d) })
			dirs["tmpfs"] = d
		}
	}
	// t.TempDir may be a tmpfs (Debian 13's /tmp): the user's cache
	// directory is on a disk on the machines this runs on.
	if cache, err := os.UserCacheDir(); err == nil {
		if d, err := os.MkdirTemp(cache, "dlthub-direct"); err == nil {
			t.Cleanup(func() { _ = os.RemoveAll(d) })
			dirs["cache"] = d
		}
	}
	sawDirect := false
	rng := rand.New(rand.NewPCG(1, 2))
	sizes := []int{0, 1, directio.Align - 1, directio.Align, directio.Align + 1, directio.ReadBufSize - 1, directio.ReadBufSize, directio.ReadBufSize + 1, 3*directio.ReadBufSize + 123}
	for fsName, dir := range dirs {
		for _, size := range sizes {
			path := filepath.Join(dir, "f.jsonl")
			w, err := CreateDirect(path)
			if err != nil {
				t.Fatal(err)
			}
			sawDirect = sawDirect || w.direct
			want := writeRandom(t, w, rng, size)
			if err := w.Close(); err != nil {
				t.Fatalf("%s size %d: close: %v", fsName, size, err)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s size %d: file holds %d bytes, want the %d written", fsName, size, len(got), len(want))
			}
			if w.Bytes != int64(len(want)) {
				t.Errorf("%s size %d: Bytes = %d, want %d", fsName, size, w.Bytes, len(want))
			}
			n := int64(len(want))
			sections := [][2]int64{{0, -1}, {0, n}, {n, -1}, {n / 2, n / 2}}
			for range 4 {
				a := rng.Int64N(n + 1)
				sections = append(sections, [2]int64{a, -1}, [2]int64{a, a + rng.Int64N(n-a+1)})
			}
			for _, s := range sections {
				r, err := directio.OpenSequential(path, s[0], s[1])
				if err != nil {
					t.Fatal(err)
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
					t.Fatalf("%s size %d section %v: read %d bytes, not the %d written there", fsName, size, s, len(got), end-s[0])
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

// writeRandom writes about size bytes as lines and raw chunks of random
// lengths, returning what the file must hold.
func writeRandom(t *testing.T, w *FileWriter, rng *rand.Rand, size int) []byte {
	t.Helper()
	var want []byte
	for len(want) < size {
		b := make([]byte, min(size-len(want), 1+rng.IntN(3*directio.Align)))
		for i := range b {
			b[i] = 'a' + byte(rng.IntN(26))
		}
		if rng.IntN(2) == 0 && len(b) > 1 {
			b = b[:len(b)-1]
			if err := w.WriteLine(b); err != nil {
				t.Fatal(err)
			}
			want = append(append(want, b...), '\n')
			continue
		}
		if _, err := w.Write(b); err != nil {
			t.Fatal(err)
		}
		want = append(want, b...)
	}
	return want
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
