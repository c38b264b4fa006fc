package jsonx_test

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"testing"
	"time"

	"github.com/dlthub/dlthub/internal/jsonx"
)

// sortedVector is a line of testdata/sorted_vectors.jsonl, written by
// testdata/sorted_vectors.py with the pinned dlt: a JSON document, the
// bytes dlt's json.dumpb(sort_keys=True) made of it and dlt's row hash of
// those bytes.
type sortedVector struct {
	In   string `json:"in"`
	Out  string `json:"out"`
	Hash string `json:"hash"`
	Str  string `json:"str"`
}

func readSortedVectors(t *testing.T) []sortedVector {
	t.Helper()
	f, err := os.Open("testdata/sorted_vectors.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	var vs []sortedVector
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var v sortedVector
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	if len(vs) < 600 {
		t.Fatalf("%d vectors, want the 600+ the script writes", len(vs))
	}
	return vs
}

// TestAppendSortedIsDlts: every document of the vectors serializes to the
// bytes dlt's orjson made of it.
func TestAppendSortedIsDlts(t *testing.T) {
	for i, v := range readSortedVectors(t) {
		doc, err := jsonx.Parse([]byte(v.In))
		if err != nil {
			t.Fatalf("vector %d: %v", i+1, err)
		}
		got, err := jsonx.AppendSorted(nil, doc)
		if err != nil {
			t.Fatalf("vector %d: %v", i+1, err)
		}
		if string(got) != v.Out {
			t.Errorf("vector %d: %s\n got  %s\n want %s", i+1, v.In, got, v.Out)
		}
		if f, isFloat := doc.(float64); isFloat {
			if v.Str == "" {
				t.Fatalf("vector %d: a float without its str()", i+1)
			}
			if got := jsonx.AppendFloatRepr(nil, f); string(got) != v.Str {
				t.Errorf("vector %d: str(%s): got %s, want %s", i+1, v.In, got, v.Str)
			}
		}
	}
}

// TestAppendSortedGoValues covers what only Go records hold: maps, times,
// bytes, non-finite floats and bytes that are not UTF-8.
func TestAppendSortedGoValues(t *testing.T) {
	at := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)
	cases := []struct {
		v    any
		want string
	}{
		{map[string]any{"b": 1, "a": []any{int64(2), 1.0}}, `{"a":[2,1.0],"b":1}`},
		{at, `"2024-05-06T07:08:09.123456+00:00"`},
		{at.Truncate(time.Second).In(time.FixedZone("", -90*60)), `"2024-05-06T05:38:09-01:30"`},
		{[]byte{0, 1, 2, 250}, `"AAEC+g=="`},
		{math.NaN(), `null`},
		{math.Inf(-1), `null`},
		{"a\xffb", `"a` + "\uFFFD" + `b"`},
		{jsonx.Number("123456789012345678901234567890"), `123456789012345678901234567890`},
		{json.Number("1e2"), `100.0`},
		{json.Number("12"), `12`},
		{struct {
			B int `json:"b"`
			A int `json:"a"`
		}{1, 2}, `{"a":2,"b":1}`},
	}
	for _, c := range cases {
		got, err := jsonx.AppendSorted(nil, c.v)
		if err != nil {
			t.Fatalf("%#v: %v", c.v, err)
		}
		if string(got) != c.want {
			t.Errorf("%#v: got %s, want %s", c.v, got, c.want)
		}
	}
}

// FuzzAppendFloat: every float is written in a form that reads back as
// the same float and as a float (never as an integer).
func FuzzAppendFloat(f *testing.F) {
	for _, s := range []float64{0, 1, 1e16, 1e-5, 1e-6, 5e-324, math.MaxFloat64, -0.5} {
		f.Add(math.Float64bits(s))
	}
	f.Fuzz(func(t *testing.T, bits uint64) {
		x := math.Float64frombits(bits)
		b := jsonx.AppendFloat(nil, x)
		if math.IsNaN(x) || math.IsInf(x, 0) {
			if string(b) != "null" {
				t.Fatalf("%v: %s", x, b)
			}
			return
		}
		v, err := jsonx.Parse(b)
		if err != nil {
			t.Fatalf("%v: %s: %v", x, b, err)
		}
		got, isFloat := v.(float64)
		if !isFloat || math.Float64bits(got) != bits {
			t.Fatalf("%v (%#x): %s reads back as %#v", x, bits, b, v)
		}
	})
}

// TestAppendKeepsFloats: a whole float written by Append (extract files
// carry records of Go sources this way) reads back as a float, so the
// normalizer infers double for it as dlt does, not bigint.
func TestAppendKeepsFloats(t *testing.T) {
	for _, f := range []float64{1, -3, 1e16, 0} {
		b, err := jsonx.Append(nil, map[string]any{"v": f})
		if err != nil {
			t.Fatal(err)
		}
		v, err := jsonx.Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := v.(*jsonx.Object).Get("v"); got != f {
			t.Errorf("%v written as %s reads back as %#v", f, b, got)
		}
	}
}
