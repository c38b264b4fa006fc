package jobfile

import (
	"testing"

	"github.com/dlthub/dlthub/internal/jsonx"
)

// hasNUL finds NUL in strings and in nested values' keys and strings, and
// not in the text "\u0000" (a backslash, then u0000).
func TestHasNUL(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want bool
	}{
		{"plain", false},
		{"a\x00b", true},
		{`\u0000`, false},
		{`\\u0000`, false},
		{int64(0), false},
		{[]any{"x", []any{"y\x00"}}, true},
		{[]any{`\u0000`, `a\\u0000`}, false},
		{&jsonx.Object{Keys: []string{"k\x00"}, Values: []any{int64(1)}}, true},
		{&jsonx.Object{Keys: []string{"k"}, Values: []any{"\\\x00"}}, true},
		{map[string]any{"k": map[string]any{"j": "\x00"}}, true},
		{map[string]any{"k": `\\\u0000`}, false},
	} {
		if got := hasNUL(tc.v); got != tc.want {
			t.Errorf("hasNUL(%#v) = %v, want %v", tc.v, got, tc.want)
		}
	}
}
