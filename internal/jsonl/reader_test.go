package jsonl

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// readLines reads every line of r with a Reader.
func readLines(t testing.TB, r io.Reader) ([]string, error) {
	t.Helper()
	lr := NewReader(r, 0)
	var out []string
	var kept [][]byte
	for {
		line, err := lr.Next()
		if err != nil {
			// Lines returned earlier still hold what they held: the
			// reader never writes a buffer twice.
			for i, k := range kept {
				if string(k) != out[i] {
					return nil, errors.New("line " + out[i] + " changed to " + string(k))
				}
			}
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return out, err
		}
		out = append(out, string(line))
		kept = append(kept, line)
	}
}

// wantLines is how JSON lines split: on '\n', a last line without one kept,
// nothing after a final '\n'.
func wantLines(s string) []string {
	if s == "" {
		return nil
	}
	l := strings.Split(s, "\n")
	if l[len(l)-1] == "" {
		l = l[:len(l)-1]
	}
	return l
}

// FuzzReader holds Reader to splitting the whole input at once,
// whatever sizes the reads return.
func FuzzReader(f *testing.F) {
	for _, s := range []string{"", "\n", "a", "a\nb", "a\nb\n", "\n\n{}\n", "x\r\ny\r\n"} {
		f.Add([]byte(s), uint8(0), uint16(0))
	}
	f.Fuzz(func(t *testing.T, data []byte, how uint8, repeat uint16) {
		// repeat makes inputs longer than the reader's buffers.
		in := bytes.Repeat(data, 1+int(repeat)%(3*bufSize/max(1, len(data))+1))
		var r io.Reader = bytes.NewReader(in)
		switch how % 3 {
		case 1:
			r = iotest.OneByteReader(r)
		case 2:
			r = iotest.HalfReader(r)
		}
		got, err := readLines(t, r)
		if err != nil {
			t.Fatal(err)
		}
		want := wantLines(string(in))
		if len(got) != len(want) {
			t.Fatalf("%d lines, want %d", len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("line %d: %q, want %q", i, got[i], want[i])
			}
		}
	})
}

func TestReaderLongLines(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 3*bufSize+17)
	in := "a\n" + long + "\n" + long[:bufSize-1] + "\nb"
	got, err := readLines(t, iotest.HalfReader(strings.NewReader(in)))
	if err != nil {
		t.Fatal(err)
	}
	want := wantLines(in)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got %d lines, want %d", len(got), len(want))
	}
}

func TestReaderError(t *testing.T) {
	t.Parallel()
	boom := errors.New("disk gone")
	got, err := readLines(t, io.MultiReader(strings.NewReader("a\nb"), iotest.ErrReader(boom)))
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want %v", err, boom)
	}
	if strings.Join(got, ",") != "a,b" {
		t.Fatalf("lines before the error: %q", got)
	}
}

// A line longer than the limit is an error, also when no newline comes.
func TestReaderRefusesLongLines(t *testing.T) {
	t.Parallel()
	const limit = 1 << 20
	for _, in := range []string{
		"a\n" + strings.Repeat("x", limit+1) + "\nb\n",
		"a\n" + strings.Repeat("x", 3*limit),
	} {
		lr := NewReader(strings.NewReader(in), limit)
		if line, err := lr.Next(); err != nil || string(line) != "a" {
			t.Fatalf("first line %q, %v", line, err)
		}
		if _, err := lr.Next(); err == nil || !strings.Contains(err.Error(), "longer than 1 MB") {
			t.Fatalf("got %v, want a line-too-long error", err)
		}
		if _, err := lr.Next(); err == nil {
			t.Fatal("the reader went on after refusing a line")
		}
	}
	// At the limit, a line is fine.
	got, err := readLines(t, strings.NewReader(strings.Repeat("y", limit)+"\n"))
	if err != nil || len(got) != 1 {
		t.Fatalf("%d lines, %v", len(got), err)
	}
}
