package naming

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNormalizeIdentifier(t *testing.T) {
	s := NewSnakeCase(0)
	cases := map[string]string{
		"event_value":       "event_value",
		"event value":       "event_value",
		"event-.!:value":    "event_value",
		"123event_value":    "_123event_value",
		"111111":            "_111111",
		"Small Love Potion": "small_love_potion",
		"SmallLovePotion":   "small_love_potion",
		"Small_Love_Potion": "small_love_potion",
		"camelCase":         "camel_case",
		"_camelCase":        "_camel_case",
		"__CamelCase":       "_camel_case",
		"ACMEInc":           "acme_inc",
		"createdAt":         "created_at",
		"HTTPResponse":      "http_response",
		"+1":                "x1",
		"-1":                "_1",
		"a*b":               "axb",
		"user@host":         "userahost",
		"a|b":               "alb",
		"trailing__":        "trailingxx",
		"___":               "xxx",
		"  padded  ":        "padded",
		"Ölpreis":           "_lpreis",
		"a__b":              "a_b",
		"a___b":             "a_b",
		"node_id":           "node_id",
	}
	for in, want := range cases {
		got, err := s.NormalizeIdentifier(in)
		if err != nil || got != want {
			t.Errorf("NormalizeIdentifier(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := s.NormalizeIdentifier("   "); err == nil {
		t.Error("empty identifier accepted")
	}
}

func TestNormalizePath(t *testing.T) {
	s := NewSnakeCase(0)
	cases := map[string]string{
		"issues__labels":         "issues__labels",
		"Issues__ReactionCounts": "issues__reaction_counts",
		"reactions__+1":          "reactions__x1",
		"reactions__-1":          "reactions___1",
		"__a____b__":             "a__b",
	}
	for in, want := range cases {
		got, err := s.NormalizePath(in)
		if err != nil || got != want {
			t.Errorf("NormalizePath(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestShortenWithTag(t *testing.T) {
	s := NewSnakeCase(63)
	long := strings.Repeat("very_long_column_name_", 5)
	got, err := s.NormalizeIdentifier(long)
	if err != nil {
		t.Fatal(err)
	}
	if utf8.RuneCountInString(got) != 63 {
		t.Fatalf("len = %d: %q", len(got), got)
	}
	tag := Tag(strings.TrimSpace(long))
	if len(tag) != 7 || !strings.Contains(got, tag) {
		t.Errorf("tag %q not in %q", tag, got)
	}
	// Head and tail come from the normalized name around the tag.
	norm, _ := NewSnakeCase(0).NormalizeIdentifier(long)
	if !strings.HasPrefix(got, norm[:28]) || !strings.HasSuffix(got, norm[len(norm)-28:]) {
		t.Errorf("shortened %q does not keep head and tail of %q", got, norm)
	}
	// Deterministic and distinct for distinct inputs.
	other, _ := s.NormalizeIdentifier(long + "x")
	again, _ := s.NormalizeIdentifier(long)
	if again != got || other == got {
		t.Errorf("tags not deterministic/distinct: %q %q %q", got, again, other)
	}
	// Short identifiers are untouched.
	if got, _ := s.NormalizeIdentifier("id"); got != "id" {
		t.Errorf("short: %q", got)
	}
}

func TestTagAlphabet(t *testing.T) {
	for _, in := range []string{"a", "b", "column", strings.Repeat("z", 300)} {
		tag := Tag(in)
		if len(tag) != 7 || strings.ToLower(tag) != tag || strings.ContainsAny(tag, "+/=") {
			t.Errorf("Tag(%q) = %q", in, tag)
		}
	}
}

// TestShortenVectors pins identifiers shortened the way dlt shortens them
// (values computed with dlt's algorithm under CPython's hashlib.shake_128).
func TestShortenVectors(t *testing.T) {
	cases := []struct {
		in   string
		max  int
		want string
	}{
		{strings.Repeat("very_long_column_name_", 5), 63, "very_long_column_name_very_lvmjd3sc_name_very_long_column_namex"},
		{"SomeVeryLongCamelCaseIdentifierThatGoesOnAndOn", 20, "some_veyymuzzoand_on"},
		{"issues__labels__very_long_child_table_name", 30, "issues_labelq5lnj1g_table_name"},
	}
	for _, tc := range cases {
		got, err := NewSnakeCase(tc.max).NormalizeIdentifier(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("NormalizeIdentifier(%q, max %d) = %q, %v; want %q", tc.in, tc.max, got, err, tc.want)
		}
	}
}
