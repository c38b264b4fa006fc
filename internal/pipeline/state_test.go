package pipeline

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"strings"
	"testing"
)

// A stored state is read as dlt reads it: base64 of zlib of JSON, or,
// when the text is not base64, the JSON itself; a zlib bomb is refused
// instead of filling memory.
func TestDecompressState(t *testing.T) {
	st := &State{PipelineName: "p", Sources: map[string]any{"s": map[string]any{"k": "v"}}}
	compressed, err := st.Compress()
	if err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string]string{
		"compressed": compressed,
		"plain JSON": `{"pipeline_name": "p", "sources": {"s": {"k": "v"}}}`,
	} {
		got, err := DecompressState(in)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.PipelineName != "p" || got.Sources["s"].(map[string]any)["k"] != "v" {
			t.Errorf("%s: read %+v", name, got)
		}
	}

	var buf bytes.Buffer
	w, _ := zlib.NewWriterLevel(&buf, zlib.BestCompression)
	chunk := bytes.Repeat([]byte(" "), 1<<20)
	_, _ = w.Write([]byte(`{"pipeline_name": "`))
	for range maxStateBytes>>20 + 1 {
		_, _ = w.Write(chunk)
	}
	_ = w.Close()
	if buf.Len() > 1<<20 {
		t.Fatalf("the bomb is %d bytes", buf.Len())
	}
	_, err = DecompressState(base64.StdEncoding.EncodeToString(buf.Bytes()))
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("a %d-byte state inflating past %d MiB: %v, want refused", buf.Len(), maxStateBytes>>20, err)
	}
	if _, err := DecompressState("bm90IHpsaWI="); err == nil || !strings.Contains(err.Error(), "decompress stored state") {
		t.Fatalf("base64 of no zlib: %v", err)
	}
}

// FuzzDecompressState: any stored state text is read or refused with an
// error, never a panic; what is read holds its typed cursor values as
// the engine's.
func FuzzDecompressState(f *testing.F) {
	st := &State{PipelineName: "p", Sources: map[string]any{"s": map[string]any{"resources": map[string]any{"r": map[string]any{
		"incremental": map[string]any{"updated_at": map[string]any{"last_value": "\uF0272024-05-01T03:00:00+00:00"}}}}}}}
	compressed, err := st.Compress()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(compressed)
	f.Add(`{"sources": {"s": {"resources": {"r": {"incremental": {"c": {"last_value": "\uF02612.5"}}}}}}}`)
	f.Add("eJwLycgsVgCi4vzcVIWS1OISAC3hBXE=")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		st, err := DecompressState(s)
		if err != nil {
			return
		}
		for _, src := range st.Sources {
			res, _ := src.(map[string]any)["resources"].(map[string]any)
			for _, r := range res {
				inc, _ := r.(map[string]any)["incremental"].(map[string]any)
				for path, c := range inc {
					if cs, ok := c.(map[string]any); ok {
						_ = fromDltState(cs["last_value"])
						if path == "" {
							continue // not a cursor newCursor takes
						}
						if _, err := newCursor(&Incremental{CursorPath: path}, r.(map[string]any), "r", nil); err != nil {
							t.Fatal(err)
						}
					}
				}
			}
		}
	})
}
