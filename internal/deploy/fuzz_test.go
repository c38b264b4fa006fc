package deploy

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// entry is one member of a hand-made archive.
type entry struct {
	name string
	typ  byte
	body string
	mode int64
}

func makeArchive(t testing.TB, entries []entry, trailing []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: e.mode, Size: int64(len(e.body)), Typeflag: e.typ}
		if e.typ != tar.TypeReg {
			h.Size = 0
			h.Linkname = "target"
		}
		if err := tw.WriteHeader(h); err != nil {
			continue // names tar cannot hold
		}
		if e.typ == tar.TypeReg {
			_, _ = tw.Write([]byte(e.body))
		}
	}
	_ = tw.Close()
	_, _ = zw.Write(trailing)
	_ = zw.Close()
	return b.Bytes()
}

// checkExtract runs Extract into a fresh directory and checks what it left:
// nothing outside that directory, only regular files and directories inside
// it, never more content than max; and on success exactly the files the
// package lists, with their sizes and the hash ReadTarGz gives.
func checkExtract(t *testing.T, data []byte, max int64) {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "out")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p, err := Extract(bytes.NewReader(data), dir, max)
	if err != nil && !errors.Is(err, ErrInvalidPackage) && !strings.HasPrefix(err.Error(), "extract ") {
		t.Fatalf("error is neither an invalid package nor an extraction failure: %v", err)
	}
	top, _ := os.ReadDir(root)
	if len(top) != 1 || top[0].Name() != "out" {
		t.Fatalf("wrote outside the target directory: %v", top)
	}
	var total int64
	onDisk := map[string]int64{}
	_ = filepath.WalkDir(dir, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		info, err := os.Lstat(path)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case info.Mode().IsDir():
		case info.Mode().IsRegular():
			total += info.Size()
			rel, _ := filepath.Rel(dir, path)
			onDisk[filepath.ToSlash(rel)] = info.Size()
		default:
			t.Fatalf("%s is a %v", path, info.Mode())
		}
		return nil
	})
	if total > max {
		t.Fatalf("wrote %d bytes, over the %d limit", total, max)
	}
	if err != nil {
		// What Extract cannot check out, ReadTarGz (which accepts uploads)
		// must not accept either.
		if _, rerr := ReadTarGz(bytes.NewReader(data), max); rerr == nil {
			t.Fatalf("ReadTarGz accepts a package that Extract fails on: %v", err)
		}
		return
	}
	if p.Size > max || len(onDisk) != len(p.Files) {
		t.Fatalf("package of %d bytes, %d files; %d files on disk", p.Size, len(p.Files), len(onDisk))
	}
	for _, f := range p.Files {
		if size, ok := onDisk[f.Path]; !ok || size != f.Size {
			t.Fatalf("%s: listed with %d bytes, on disk %d (%v)", f.Path, f.Size, size, ok)
		}
	}
	again, err := ReadTarGz(bytes.NewReader(data), max)
	if err != nil || again.Hash != p.Hash {
		t.Fatalf("ReadTarGz disagrees with Extract: %v", err)
	}
	if scanned, err := Scan(dir, Options{}); err != nil || scanned.Hash != p.Hash {
		t.Fatalf("extracted files scan to another package: %v", err)
	}
}

// FuzzReadTarGz holds for any uploaded bytes: ReadTarGz and Extract accept
// them or fail with ErrInvalidPackage, never write outside the target
// directory or more than the limit, and what they accept is exactly what
// lands on disk.
func FuzzReadTarGz(f *testing.F) {
	f.Add(makeArchive(f, []entry{{"main.py", tar.TypeReg, "print(1)\n", 0o644}, {"bin/run", tar.TypeReg, "#!/bin/sh\n", 0o755}}, nil), int64(DefaultMaxBytes))
	f.Add(makeArchive(f, []entry{{"../escape", tar.TypeReg, "x", 0o644}}, nil), int64(100))
	f.Add(makeArchive(f, []entry{{"link", tar.TypeSymlink, "", 0o777}}, nil), int64(100))
	f.Add(makeArchive(f, []entry{{"a", tar.TypeReg, "x", 0o644}, {"a/b", tar.TypeReg, "y", 0o644}}, nil), int64(100))
	f.Add(makeArchive(f, []entry{{"big", tar.TypeReg, strings.Repeat("x", 64), 0o644}}, nil), int64(10))
	f.Add(makeArchive(f, []entry{{"a", tar.TypeReg, "x", 0o644}}, make([]byte, 4096)), int64(100))
	f.Add([]byte("not a package"), int64(100))
	f.Fuzz(func(t *testing.T, data []byte, max int64) {
		if max < 0 {
			max = -max
		}
		max %= 1 << 20
		p, err := ReadTarGz(bytes.NewReader(data), max)
		if err != nil && !errors.Is(err, ErrInvalidPackage) {
			t.Fatalf("not an ErrInvalidPackage: %v", err)
		}
		if err == nil && p.Size > max {
			t.Fatalf("accepted %d bytes over the %d limit", p.Size, max)
		}
		checkExtract(t, data, max)
	})
}

// FuzzExtractEntries builds well-formed archives from fuzzed member names,
// types and bodies, so the path checks see what the fuzzer makes: Extract
// never writes outside its directory, never writes more than the limit, and
// accepts only packages whose files all land as listed.
func FuzzExtractEntries(f *testing.F) {
	f.Add("main.py\x00pkg/mod.py\x00.dlt/secrets.toml", []byte{0, 0, 0}, "print(1)\n", uint16(1000), uint16(0))
	f.Add("../x\x00/abs\x00a/../../b\x00./a\x00a//b", []byte{0, 0, 0, 0, 0}, "x", uint16(1000), uint16(0))
	f.Add("a\x00a/b\x00a", []byte{0, 0, 0}, "xy", uint16(1000), uint16(0))
	f.Add("dir/\x00lnk\x00hard\x00fifo", []byte{5, 2, 1, 6}, "", uint16(1000), uint16(0))
	f.Add("big\x00bigger", []byte{0, 0}, strings.Repeat("z", 300), uint16(400), uint16(1024))
	f.Add(".git/config\x00x/.dlt\x00.dlt", []byte{0, 0, 0}, "", uint16(1000), uint16(0))
	f.Add("out\x00.", []byte{0, 0}, "x", uint16(1000), uint16(0)) // "." is the checkout itself
	types := []byte{tar.TypeReg, tar.TypeLink, tar.TypeSymlink, tar.TypeChar, tar.TypeBlock, tar.TypeDir, tar.TypeFifo}
	f.Fuzz(func(t *testing.T, names string, kinds []byte, body string, max, trailing uint16) {
		var entries []entry
		for i, n := range strings.Split(names, "\x00") {
			e := entry{name: n, typ: tar.TypeReg, body: body, mode: 0o644}
			if i < len(kinds) {
				e.typ = types[int(kinds[i])%len(types)]
				if kinds[i]&0x80 != 0 {
					e.mode = 0o755
				}
			}
			if len(body) > 0 {
				e.body = body[:(i*7)%len(body)+1]
			}
			entries = append(entries, e)
		}
		checkExtract(t, makeArchive(t, entries, make([]byte, int(trailing)*8)), int64(max))
	})
}

// TestTrailingDataBounded: bytes after the end of the tar archive are not
// decompressed without limit; a package with a few KiB of padding (what tar
// writes) is accepted, one with megabytes after its end is refused.
func TestTrailingDataBounded(t *testing.T) {
	files := []entry{{"main.py", tar.TypeReg, "print(1)\n", 0o644}}
	if _, err := ReadTarGz(bytes.NewReader(makeArchive(t, files, make([]byte, 10240))), DefaultMaxBytes); err != nil {
		t.Fatalf("tar padding refused: %v", err)
	}
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	tw := tar.NewWriter(zw)
	_ = tw.WriteHeader(&tar.Header{Name: "main.py", Mode: 0o644, Size: 1, Typeflag: tar.TypeReg})
	_, _ = tw.Write([]byte("x"))
	_ = tw.Close()
	zeros := make([]byte, 1<<20)
	for range 64 {
		_, _ = zw.Write(zeros)
	}
	_ = zw.Close()
	r := &countingReader{r: bytes.NewReader(b.Bytes())}
	_, err := ReadTarGz(r, DefaultMaxBytes)
	if !errors.Is(err, ErrInvalidPackage) || !strings.Contains(err.Error(), "after the end of the archive") {
		t.Fatalf("64 MiB after the archive: %v", err)
	}
	if r.n == int64(b.Len()) {
		t.Errorf("read the whole %d-byte upload to refuse it", r.n)
	}
}

// TestUncheckoutablePackagesRefused: a path that is a file and also a
// directory of another file, or a name component over 255 bytes, cannot be
// checked out on a worker, so the upload is refused.
func TestUncheckoutablePackagesRefused(t *testing.T) {
	for name, entries := range map[string][]entry{
		"file then dir": {{"a", tar.TypeReg, "x", 0o644}, {"a/b", tar.TypeReg, "y", 0o644}},
		"dir then file": {{"a/b/c", tar.TypeReg, "x", 0o644}, {"a/b", tar.TypeReg, "y", 0o644}},
		"long name":     {{"dir/" + strings.Repeat("n", 256), tar.TypeReg, "x", 0o644}},
	} {
		_, err := ReadTarGz(bytes.NewReader(makeArchive(t, entries, nil)), DefaultMaxBytes)
		if !errors.Is(err, ErrInvalidPackage) {
			t.Errorf("%s: accepted (%v)", name, err)
		}
	}
	ok := []entry{{"a/b", tar.TypeReg, "x", 0o644}, {"a/c", tar.TypeReg, "y", 0o644}, {"ab", tar.TypeReg, "z", 0o644}, {strings.Repeat("n", 255), tar.TypeReg, "", 0o644}}
	if _, err := ReadTarGz(bytes.NewReader(makeArchive(t, ok, nil)), DefaultMaxBytes); err != nil {
		t.Errorf("siblings refused: %v", err)
	}
}
