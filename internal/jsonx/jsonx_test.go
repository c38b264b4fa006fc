package jsonx

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseKeepsOrderAndTypes(t *testing.T) {
	v, err := Parse([]byte(`{"z": 1, "a": [true, null, -2.5e1, "x\u00e9\n\ud83d\ude00"], "m": {"k": 12345678901234567890}, "n": -0}`))
	if err != nil {
		t.Fatal(err)
	}
	o := v.(*Object)
	if !reflect.DeepEqual(o.Keys, []string{"z", "a", "m", "n"}) {
		t.Errorf("keys %v", o.Keys)
	}
	if o.Values[0] != int64(1) {
		t.Errorf("z = %#v", o.Values[0])
	}
	want := []any{true, nil, -25.0, "xé\n😀"}
	if !reflect.DeepEqual(o.Values[1], want) {
		t.Errorf("a = %#v", o.Values[1])
	}
	if k, _ := o.Values[2].(*Object).Get("k"); k != Number("12345678901234567890") {
		t.Errorf("big = %#v", k)
	}
}

func TestParseMatchesEncodingJSON(t *testing.T) {
	docs := []string{`"plain"`, `"esc\"\\\/\b\f\r\t"`, `[1,2,[3,{}],[]]`, `{"a":{"b":{"c":[{"d":1.5}]}}}`, `9223372036854775807`, `-9223372036854775808`, `0.1`}
	for _, d := range docs {
		got, err := Parse([]byte(d))
		if err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		var want any
		_ = json.Unmarshal([]byte(d), &want)
		if !reflect.DeepEqual(plain(got), plain(want)) {
			t.Errorf("%s: got %#v want %#v", d, plain(got), plain(want))
		}
	}
}

// plain converts both representations to comparable forms.
func plain(v any) any {
	switch x := v.(type) {
	case *Object:
		m := map[string]any{}
		for i, k := range x.Keys {
			m[k] = plain(x.Values[i])
		}
		return m
	case map[string]any:
		m := map[string]any{}
		for k, e := range x {
			m[k] = plain(e)
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plain(e)
		}
		return out
	case int64:
		return float64(x)
	}
	return v
}

func TestParseErrors(t *testing.T) {
	for _, d := range []string{``, `{`, `{"a"}`, `{"a":1,}`, `[1,]`, `"abc`, `01`, `1.`, `tru`, `{"a":1} x`, "\"a\x01\"", `"\x"`} {
		_, err := Parse([]byte(d))
		var se *SyntaxError
		if err == nil || !strings.Contains(err.Error(), "invalid JSON at byte") {
			t.Errorf("%q: err = %v", d, err)
		}
		_ = se
	}
}

func TestAppendRoundTrip(t *testing.T) {
	src := `{"b":1,"a":[true,null,"x\"\\\n\u0001é",2.5,{"z":{}}],"n":12345678901234567890}`
	v, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	out, err := Append(nil, v)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"b":1,"a":[true,null,"x\"\\\n\u0001é",2.5,{"z":{}}],"n":12345678901234567890}`
	if string(out) != want {
		t.Errorf("got  %s\nwant %s", out, want)
	}
}

func TestParserReuseAndIntern(t *testing.T) {
	var p Parser
	for i := range 3 {
		v, err := p.Parse([]byte(`{"id": 1, "nested": {"id": 2, "k\u00e9y": [1, {"a": "b"}]}, "tail": true}`))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := Append(nil, v)
		if string(got) != `{"id":1,"nested":{"id":2,"kéy":[1,{"a":"b"}]},"tail":true}` {
			t.Fatalf("round %d: %s", i, got)
		}
	}
	if _, err := p.Parse([]byte(`{"id": }`)); err == nil {
		t.Fatal("no error")
	}
	// The parser recovers after an error.
	if v, err := p.Parse([]byte(`{"x": {"y": 1}}`)); err != nil || v.(*Object).Keys[0] != "x" {
		t.Fatalf("after error: %v %v", v, err)
	}
}

func TestParseSharedAliasesInput(t *testing.T) {
	var p Parser
	in := []byte(`{"a": "plain", "b": "esc\"aped"}`)
	v, err := p.ParseShared(in)
	if err != nil {
		t.Fatal(err)
	}
	o := v.(*Object)
	if o.Values[0] != "plain" || o.Values[1] != `esc"aped` {
		t.Fatalf("values %v", o.Values)
	}
	// Parse (not shared) copies: changing the input does not change values.
	in2 := []byte(`{"a": "plain"}`)
	v2, _ := p.Parse(in2)
	copy(in2[7:], "XXXXX")
	if v2.(*Object).Values[0] != "plain" {
		t.Error("Parse aliased its input")
	}
}

// TestLoneSurrogateKeepsNextEscape: a high surrogate not followed by a low
// one becomes U+FFFD and the escape after it is read on its own (it was
// swallowed, losing a character), as encoding/json does.
func TestLoneSurrogateKeepsNextEscape(t *testing.T) {
	for in, want := range map[string]string{
		`"\ud800\u0041"`:       "\uFFFDA",
		`"\udc00\u0041"`:       "\uFFFDA",
		`"\ud800\ud800\udc00"`: "\uFFFD\U00010000",
		`"\ud83d\ude00"`:       "😀",
		`"\ud800x"`:            "\uFFFDx",
	} {
		v, err := Parse([]byte(in))
		if err != nil || v != want {
			t.Errorf("%s = %q (%v), want %q", in, v, err, want)
		}
	}
}

// A Parser's objects of one shape share their Keys; appending to one
// (Set) leaves the others as they were. Keys that are long, escaped or at
// the very end of the input are found as well as the others.
func TestParserSharesKeys(t *testing.T) {
	var p Parser
	docs := []string{
		`{"id": 1, "user": {"login": "a"}, "a_key_of_exactly_16": 1}`,
		`{"id": 2, "user": {"login": "b"}, "a_key_of_exactly_16": 1}`,
	}
	var objs []*Object
	for _, d := range docs {
		v, err := p.ParseShared([]byte(d))
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, v.(*Object))
	}
	want := []string{"id", "user", "a_key_of_exactly_16"}
	for i, o := range objs {
		if !reflect.DeepEqual(o.Keys, want) {
			t.Fatalf("object %d keys %q, want %q", i, o.Keys, want)
		}
	}
	if &objs[0].Keys[0] != &objs[1].Keys[0] {
		t.Error("objects of one shape do not share their keys")
	}
	objs[0].Set("extra", true)
	if !reflect.DeepEqual(objs[1].Keys, want) || len(objs[0].Keys) != len(want)+1 {
		t.Errorf("Set on a shared object: %q and %q", objs[0].Keys, objs[1].Keys)
	}
	// Keys that are long or escaped (never shared: they are not interned
	// or not found by address), and keys within the input's last eight
	// bytes.
	long := strings.Repeat("k", 70)
	for _, d := range []string{`{"a":1,"bc":2}`, `{"abcdefgh":1}`, `{"abcdefghi":1}`, `{"a\"b":1}`,
		`{"` + long + `": 2, "esc\u0061ped": 3, "x": 1}`, `{"` + long + `": 2, "esc\u0061ped": 3, "x": 1}`} {
		v, err := p.ParseShared([]byte(d))
		if err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		var std map[string]any
		if err := json.Unmarshal([]byte(d), &std); err != nil {
			t.Fatal(err)
		}
		keys := v.(*Object).Keys
		for _, k := range keys {
			if _, ok := std[k]; !ok {
				t.Errorf("%s: key %q not in %v", d, k, std)
			}
		}
		if len(keys) != len(std) {
			t.Errorf("%s: keys %q", d, keys)
		}
	}
}

// JSON text must be UTF-8 (RFC 8259): a string with other bytes is an
// error pointing at the first of them, in values and keys, with and
// without escapes around it, shared or copied; UTF-8 of every length
// passes unchanged.
func TestStringsMustBeUTF8(t *testing.T) {
	good := map[string]string{
		`"é"`: "é",
		`"日本語のテキスト、長めの文字列です"`:                 "日本語のテキスト、長めの文字列です",
		`"😀 and \n then ü"`:                   "😀 and \n then ü",
		`"\u00e9 é"`:                          "é é",
		`"` + strings.Repeat("ab", 20) + `ß"`: strings.Repeat("ab", 20) + "ß",
	}
	for in, want := range good {
		for _, shared := range []bool{false, true} {
			var ps Parser
			parse := ps.Parse
			if shared {
				parse = ps.ParseShared
			}
			v, err := parse([]byte(in))
			if err != nil || v != want {
				t.Errorf("%s (shared %v) = %q, %v; want %q", in, shared, v, err, want)
			}
		}
	}
	bad := map[string]int{
		"\"x\xff\"": 2,
		"\"" + strings.Repeat("a", 17) + "\xc3\"": 18, // a sequence cut short
		"\"\\n\xe9t\xe9\"":                        3,  // Latin-1 after an escape
		"{\"k\xe9\": 1}":                          3,  // a key
		"[\"ok\", \"\xed\xa0\x80\"]":              8,  // an encoded surrogate
		"\"\xc0\xaf\"":                            1,  // an overlong '/'
	}
	for in, at := range bad {
		var ps Parser
		_, err := ps.ParseShared([]byte(in))
		var se *SyntaxError
		if !errors.As(err, &se) || !strings.Contains(se.Msg, "not valid UTF-8") || se.Offset != at {
			t.Errorf("%q: err = %v, want one about UTF-8 at byte %d", in, err, at)
		}
	}
}
