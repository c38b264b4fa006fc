// Package naming implements dlt's snake_case naming convention byte for byte,
// so tables and columns land with exactly the names Python dlt gives them:
// the same reduced alphabet, camelCase splitting, "__" as the path separator,
// and the same hash tag when an identifier is longer than a destination
// allows.
package naming

import (
	"crypto/sha3"
	"encoding/base64"
	"errors"
	"regexp"
	"strings"
	"unicode"
)

// PathSeparator joins parent and child names (tables and flattened columns).
const PathSeparator = "__"

// SnakeCase is dlt's default naming convention. MaxLength is the
// destination's identifier limit; 0 means unlimited.
type SnakeCase struct {
	MaxLength int

	nonAlnum, break1, break2, underscores *regexp.Regexp
}

// NewSnakeCase returns the convention for a destination limit (0: none).
func NewSnakeCase(maxLength int) *SnakeCase {
	return &SnakeCase{
		MaxLength: maxLength,
		// Python's \d in a str pattern is any Unicode decimal digit.
		nonAlnum:    regexp.MustCompile(`[^a-zA-Z\p{Nd}_]+`),
		break1:      regexp.MustCompile(`([^_])([A-Z][a-z]+)`),
		break2:      regexp.MustCompile(`([a-z0-9])([A-Z])`),
		underscores: regexp.MustCompile(`__+`),
	}
}

// ErrEmptyIdentifier is returned for identifiers that are empty after
// trimming spaces.
var ErrEmptyIdentifier = errors.New("identifier is empty")

// reduceAlphabet maps dlt's special characters before anything else.
func reduceAlphabet(r rune) rune {
	switch r {
	case '+', '*':
		return 'x'
	case '-':
		return '_'
	case '@':
		return 'a'
	case '|':
		return 'l'
	}
	return r
}

// NormalizeIdentifier turns one name into a snake_case identifier:
// "createdAt" → "created_at", "+1" → "x1", "123abc" → "_123abc".
func (s *SnakeCase) NormalizeIdentifier(identifier string) (string, error) {
	identifier = strings.TrimSpace(identifier)
	if identifier == "" {
		return "", ErrEmptyIdentifier
	}
	n := strings.Map(reduceAlphabet, identifier)
	n = s.nonAlnum.ReplaceAllString(n, "_")
	return shorten(s.toSnakeCase(n), identifier, s.MaxLength), nil
}

func (s *SnakeCase) toSnakeCase(id string) string {
	id = s.break1.ReplaceAllString(id, "${1}_${2}")
	id = strings.ToLower(s.break2.ReplaceAllString(id, "${1}_${2}"))
	if r := []rune(id); len(r) > 0 && unicode.IsDigit(r[0]) {
		id = "_" + id
	}
	stripped := strings.TrimRight(id, "_")
	id = stripped + strings.Repeat("x", len(id)-len(stripped))
	return s.underscores.ReplaceAllString(id, "_")
}

// MakePath joins non-empty identifiers with the path separator.
func MakePath(identifiers ...string) string {
	var parts []string
	for _, id := range identifiers {
		if strings.TrimSpace(id) != "" {
			parts = append(parts, id)
		}
	}
	return strings.Join(parts, PathSeparator)
}

// BreakPath splits a path into its non-empty identifiers.
func BreakPath(path string) []string {
	var out []string
	for _, p := range strings.Split(path, PathSeparator) {
		if strings.TrimSpace(p) != "" {
			out = append(out, p)
		}
	}
	return out
}

// NormalizePath normalizes every identifier of a path and shortens the
// result as a whole: "Parent__childList" → "parent__child_list".
func (s *SnakeCase) NormalizePath(path string) (string, error) {
	parts := BreakPath(path)
	norm := make([]string, 0, len(parts))
	for _, p := range parts {
		n, err := s.NormalizeIdentifier(p)
		if err != nil {
			return "", err
		}
		norm = append(norm, n)
	}
	return shorten(MakePath(norm...), path, s.MaxLength), nil
}

// NormalizeTableIdentifier normalizes a table name (a path of parent and
// child names).
func (s *SnakeCase) NormalizeTableIdentifier(name string) (string, error) {
	return s.NormalizePath(name)
}

// shorten trims an identifier over maxLength (in characters) and puts a tag
// computed from the original identifier in its middle, as dlt does.
func shorten(normalized, original string, maxLength int) string {
	if maxLength <= 0 || len(normalized) <= maxLength {
		return normalized // byte length bounds rune length
	}
	r := []rune(normalized)
	if len(r) <= maxLength {
		return normalized
	}
	tag := Tag(original)
	remaining := maxLength - len(tag)
	if remaining < 0 {
		return tag[:maxLength]
	}
	head := remaining/2 + remaining%2
	return string(r[:head]) + tag + string(r[len(r)-remaining/2:])
}

// Tag is dlt's collision tag: 5 bytes of SHAKE-128 of the identifier, base64
// without padding, "/" and "+" mapped to "a" and "b", lower-cased. Five bytes
// is what dlt derives from its default collision probability of 0.001.
func Tag(identifier string) string {
	sum := sha3.SumSHAKE128([]byte(identifier), 5)
	t := strings.TrimRight(base64.StdEncoding.EncodeToString(sum), "=")
	t = strings.NewReplacer("/", "a", "+", "b").Replace(t)
	return strings.ToLower(t)
}

// ShortenFragments joins already normalized identifiers into a path and
// shortens the path to the limit, as dlt's shorten_fragments does.
func (s *SnakeCase) ShortenFragments(fragments ...string) string {
	if len(fragments) == 2 && s.MaxLength <= 0 && strings.TrimSpace(fragments[0]) != "" && strings.TrimSpace(fragments[1]) != "" {
		return fragments[0] + PathSeparator + fragments[1]
	}
	p := MakePath(fragments...)
	return shorten(p, p, s.MaxLength)
}
