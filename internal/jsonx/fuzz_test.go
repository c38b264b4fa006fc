package jsonx

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// sameAsStd compares a jsonx value with what encoding/json decodes (with
// UseNumber): same structure, same strings, same numbers. For objects with
// a repeated key the last value counts, as in encoding/json.
func sameAsStd(x, std any) bool {
	switch a := x.(type) {
	case *Object:
		m, ok := std.(map[string]any)
		if !ok {
			return false
		}
		last := map[string]any{}
		for i, k := range a.Keys {
			last[k] = a.Values[i]
		}
		if len(last) != len(m) {
			return false
		}
		for k, v := range last {
			if sv, ok := m[k]; !ok || !sameAsStd(v, sv) {
				return false
			}
		}
		return true
	case []any:
		l, ok := std.([]any)
		if !ok || len(l) != len(a) {
			return false
		}
		for i := range a {
			if !sameAsStd(a[i], l[i]) {
				return false
			}
		}
		return true
	case int64:
		n, ok := std.(json.Number)
		return ok && string(n) != "" && strconv.FormatInt(a, 10) == normInt(string(n))
	case Number:
		n, ok := std.(json.Number)
		return ok && string(a) == string(n)
	case float64:
		n, ok := std.(json.Number)
		if !ok {
			return false
		}
		f, err := strconv.ParseFloat(string(n), 64)
		return err == nil && f == a
	default:
		return x == std
	}
}

// normInt writes "-0" as "0", as int64 does.
func normInt(s string) string {
	if s == "-0" {
		return "0"
	}
	return s
}

// FuzzParse holds for any bytes: Parse never accepts what is not JSON or
// not UTF-8, and refuses valid JSON only for numbers out of float64 range;
// it decodes what encoding/json decodes; a *SyntaxError points inside the
// input; writing a value back with Append gives JSON that parses to the
// same written form from the second writing on (a fixed point); and a reused Parser, shared or not,
// gives the same values as Parse.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"z": 1, "a": [true, null, -2.5e1, "x\u00e9\n\ud83d\ude00"], "m": {"k": 12345678901234567890}, "n": -0}`,
		`"plain"`, `"esc\"\\\/\b\f\r\t"`, `[1,2,[3,{}],[]]`, `{"a":{"b":{"c":[{"d":1.5}]}}}`, `9223372036854775807`, `-9223372036854775808`, `0.1`,
		``, `{`, `{"a"}`, `{"a":1,}`, `[1,]`, `"abc`, `01`, `1.`, `tru`, `{"a":1} x`, "\"a\x01\"", `"\x"`,
		`{"b":1,"a":[true,null,"x\"\\\n\u0001é",2.5,{"z":{}}],"n":12345678901234567890}`,
		`{"id": 1, "nested": {"id": 2, "k\u00e9y": [1, {"a": "b"}]}, "tail": true}`,
		`{"a":1,"a":2}`, `1e400`, `"\ud800"`, `"\ud800\u0041"`, "\"\xff\"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := Parse(b)
		valid := json.Valid(b)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Offset < 0 || se.Offset > len(b) {
				t.Fatalf("error without an offset in the input: %v", err)
			}
			// encoding/json's Valid does not check UTF-8; RFC 8259 and
			// this parser do.
			if valid && utf8.Valid(b) && se.Msg != errRange.Error() && !strings.Contains(se.Msg, "nested too deeply") {
				t.Fatalf("valid JSON refused: %v", err)
			}
			return
		}
		if !valid {
			t.Fatalf("accepted invalid JSON %q as %#v", b, v)
		}
		if !utf8.Valid(b) {
			t.Fatalf("accepted text that is not UTF-8 %q as %#v", b, v)
		}
		if utf8.Valid(b) {
			d := json.NewDecoder(bytes.NewReader(b))
			d.UseNumber()
			var std any
			if err := d.Decode(&std); err != nil {
				t.Fatalf("encoding/json: %v", err)
			}
			if !sameAsStd(v, std) {
				t.Fatalf("%q decodes to %#v; encoding/json gives %#v", b, v, std)
			}
		}
		out, err := Append(nil, v)
		if err != nil {
			t.Fatal(err)
		}
		first := out
		v2, err := Parse(out)
		if err != nil {
			t.Fatalf("written form %q does not parse: %v", out, err)
		}
		out2, _ := Append(nil, v2)
		// The second writing is the fixed point: the first may turn
		// whole floats such as -0.0 or 1e1 into integers.
		v3, err := Parse(out2)
		if err != nil {
			t.Fatalf("written form %q does not parse: %v", out2, err)
		}
		out, out2 = out2, nil
		out2, _ = Append(out2, v3)
		if !bytes.Equal(out, out2) {
			t.Fatalf("not a fixed point:\n%s\n%s", out, out2)
		}
		var p Parser
		for range 2 {
			pv, err := p.Parse(b)
			if err != nil {
				t.Fatalf("Parser.Parse: %v", err)
			}
			if got, _ := Append(nil, pv); !bytes.Equal(got, first) {
				t.Fatalf("Parser.Parse: %s, Parse: %s", got, first)
			}
			sv, err := p.ParseShared(b)
			if err != nil {
				t.Fatalf("Parser.ParseShared: %v", err)
			}
			if got, _ := Append(nil, sv); !bytes.Equal(got, first) {
				t.Fatalf("Parser.ParseShared: %s, Parse: %s", got, first)
			}
		}
	})
}
