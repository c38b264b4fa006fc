package jsonx

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// JSON text with line breaks between tokens (an API's pretty-printed
// body) is written on one line and means the same; a line break inside a
// string is not JSON and is refused.
func TestAppendRawOneLine(t *testing.T) {
	for _, in := range []string{
		"{\n  \"id\": 1,\n  \"tags\": [\r\n    \"a\\nb\",\n    \"q\\\"\\n\"\n  ]\n}",
		"[\n1,\n{\"k\\\\\": \"v\\\\\"}\n]\n",
		`{"plain": "no breaks"}`,
	} {
		out, err := AppendRaw([]byte("x"), []byte(in))
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if !bytes.HasPrefix(out, []byte("x")) {
			t.Fatalf("%q: the buffer's start was lost: %q", in, out)
		}
		out = out[1:]
		if bytes.ContainsAny(out, "\r\n") {
			t.Errorf("%q: written with a line break: %q", in, out)
		}
		var want, got any
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%q: written as invalid JSON %q: %v", in, out, err)
		}
		if a, b := mustMarshal(t, want), mustMarshal(t, got); a != b {
			t.Errorf("%q: means %s, written form means %s", in, a, b)
		}
	}
	if _, err := AppendRaw(nil, []byte("{\"a\": \"line\nbreak\"}")); err == nil || !strings.Contains(err.Error(), "inside a string at byte 11") {
		t.Errorf("a raw line break in a string: %v", err)
	}
	// A Raw nested in an Object is written the same way.
	o := &Object{Keys: []string{"body"}, Values: []any{Raw("{\n\"a\": 1\n}")}}
	out, err := Append(nil, o)
	if err != nil || string(out) != `{"body":{ "a": 1 }}` {
		t.Errorf("nested raw: %q, %v", out, err)
	}
}

func mustMarshal(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// FuzzAppendRaw: whatever JSON text comes in, AppendRaw writes it on one
// line meaning the same, or refuses text that is not JSON; it never turns
// invalid JSON valid (a raw line break in a string stays an error).
func FuzzAppendRaw(f *testing.F) {
	for _, s := range []string{"{\n\"a\": [1,\n2]\r\n}", `{"a":"\n"}`, "\"a\nb\"", "[\"\\\\\",\n\"\\\"\"]", "\n", "{\"a\\\"\n\":1}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := AppendRaw(nil, in)
		if err != nil {
			if json.Valid(in) {
				t.Fatalf("valid JSON %q refused: %v", in, err)
			}
			return
		}
		if bytes.ContainsAny(out, "\r\n") {
			t.Fatalf("%q written with a line break: %q", in, out)
		}
		if json.Valid(in) != json.Valid(out) {
			t.Fatalf("%q (valid %v) written as %q (valid %v)", in, json.Valid(in), out, json.Valid(out))
		}
		if json.Valid(in) {
			var a, b any
			_ = json.Unmarshal(in, &a)
			_ = json.Unmarshal(out, &b)
			if mustMarshal(t, a) != mustMarshal(t, b) {
				t.Fatalf("%q means something else written as %q", in, out)
			}
		}
	})
}
