// Package tomledit changes single values in a TOML document without touching
// anything else: comments, blank lines, key order and formatting of every other
// line survive byte for byte. Config files in a dlt workspace are edited by
// people; a tool that rewrites them wholesale loses their notes.
package tomledit

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"

	toml "github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// Set returns doc with the value at path set to value. An existing key keeps
// its place and only its value changes; a missing key is added to the end of
// the table that holds its siblings; a missing table is appended as a new
// [table] section at the end of the document. Values inside inline tables and
// arrays of tables cannot be set; the error says where they are so the user can
// edit them by hand.
func Set(doc []byte, path []string, value any) ([]byte, error) {
	if len(path) == 0 {
		return nil, errors.New("empty key")
	}
	encoded, err := EncodeValue(value)
	if err != nil {
		return nil, err
	}
	if err := Validate(doc); err != nil {
		return nil, err
	}
	idx, err := index(doc)
	if err != nil {
		return nil, err
	}
	out, err := idx.set(doc, path, encoded)
	if err != nil {
		return nil, err
	}
	// Never hand back a document that does not parse or does not hold the
	// value: a bug here must not corrupt a user's file.
	if err := verify(out, path, value); err != nil {
		return nil, fmt.Errorf("internal error editing TOML (file left unchanged): %w", err)
	}
	return out, nil
}

// Delete returns doc without the key at path and reports whether it was
// there. The key's whole line goes (with a comment on that line); every
// other byte stays. Keys inside inline tables or arrays of tables cannot be
// deleted; the error says where they are.
func Delete(doc []byte, path []string) ([]byte, bool, error) {
	if len(path) == 0 {
		return nil, false, errors.New("empty key")
	}
	if err := Validate(doc); err != nil {
		return nil, false, err
	}
	idx, err := index(doc)
	if err != nil {
		return nil, false, err
	}
	name := strings.Join(path, ".")
	for _, kv := range idx.keyvals {
		if kv.inArray && hasPrefix(path, kv.table) {
			continue
		}
		if equal(kv.full, path) {
			out := splice(doc, lineStartOf(doc, kv.keyStart), lineEndOf(doc, kv.end), "")
			if err := Validate(out); err != nil {
				return nil, false, fmt.Errorf("internal error editing TOML (file left unchanged): %w", err)
			}
			return out, true, nil
		}
		if hasPrefix(path, kv.full) && len(path) > len(kv.full) {
			return nil, false, fmt.Errorf("cannot delete %s: %s is a value or inline table (line %d); edit it by hand", name, strings.Join(kv.full, "."), kv.line)
		}
	}
	return doc, false, nil
}

// Validate parses doc and returns a *ParseError with line and column on
// failure.
func Validate(doc []byte) error {
	var m map[string]any
	if err := toml.Unmarshal(doc, &m); err != nil {
		return wrapParseError(err)
	}
	return nil
}

// ParseError is a TOML syntax or semantic error with its 1-based position.
type ParseError struct {
	Line, Column int
	Msg          string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

func wrapParseError(err error) error {
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, col := de.Position()
		msg := de.Error()
		if i := strings.Index(msg, ": "); i >= 0 && strings.HasPrefix(msg, "toml:") {
			msg = msg[i+2:]
		}
		return &ParseError{Line: row, Column: col, Msg: msg}
	}
	return err
}

// keyval is one `key = value` line as found in the document.
type keyval struct {
	full       []string // table path + dotted key
	table      []string // path of the [table] header it sits under
	rel        []string // its own (possibly dotted) key
	inArray    bool     // under an [[array.of.tables]] header
	keyStart   int      // byte offset of the key
	valueStart int      // byte offset of the value
	end        int      // byte offset just past the value
	line       int      // 1-based line number
	inline     bool     // value is an inline table
}

// header is one [table] or [[table]] line.
type header struct {
	path    []string
	array   bool
	lineEnd int // offset just past the header line's newline (or EOF)
}

type docIndex struct {
	keyvals              []keyval
	headers              []header
	firstHeaderLineStart int // -1 when the document has no headers
}

func index(doc []byte) (*docIndex, error) {
	p := &unstable.Parser{}
	p.Reset(doc)
	idx := &docIndex{firstHeaderLineStart: -1}
	var cur []string
	curArray := false
	for p.NextExpression() {
		n := p.Expression()
		switch n.Kind {
		case unstable.Table, unstable.ArrayTable:
			keys, last := keyParts(n.Key())
			cur = keys
			curArray = n.Kind == unstable.ArrayTable
			lineStart := lineStartOf(doc, int(last.Raw.Offset))
			if idx.firstHeaderLineStart < 0 {
				idx.firstHeaderLineStart = lineStart
			}
			idx.headers = append(idx.headers, header{
				path:    keys,
				array:   curArray,
				lineEnd: lineEndOf(doc, int(last.Raw.Offset+last.Raw.Length)),
			})
		case unstable.KeyValue:
			rel, last := keyParts(n.Key())
			first := n.Key()
			first.Next()
			full := append(append([]string{}, cur...), rel...)
			keyEnd := int(last.Raw.Offset + last.Raw.Length)
			vs := keyEnd
			for vs < len(doc) && (doc[vs] == ' ' || doc[vs] == '\t' || doc[vs] == '"' || doc[vs] == '\'') && doc[vs] != '=' {
				vs++
			}
			if vs < len(doc) && doc[vs] == '=' {
				vs++
			}
			for vs < len(doc) && (doc[vs] == ' ' || doc[vs] == '\t') {
				vs++
			}
			idx.keyvals = append(idx.keyvals, keyval{
				full:       full,
				table:      cur,
				rel:        rel,
				inArray:    curArray,
				keyStart:   int(first.Node().Raw.Offset),
				valueStart: vs,
				end:        int(n.Raw.Offset + n.Raw.Length),
				line:       bytes.Count(doc[:vs], []byte("\n")) + 1,
				inline:     n.Value().Kind == unstable.InlineTable,
			})
		}
	}
	if err := p.Error(); err != nil {
		return nil, err
	}
	return idx, nil
}

func keyParts(it unstable.Iterator) ([]string, *unstable.Node) {
	var parts []string
	var last *unstable.Node
	for it.Next() {
		last = it.Node()
		parts = append(parts, string(last.Data))
	}
	return parts, last
}

func lineStartOf(doc []byte, off int) int {
	i := bytes.LastIndexByte(doc[:off], '\n')
	return i + 1
}

func lineEndOf(doc []byte, off int) int {
	i := bytes.IndexByte(doc[off:], '\n')
	if i < 0 {
		return len(doc)
	}
	return off + i + 1
}

func hasPrefix(path, prefix []string) bool {
	if len(prefix) > len(path) {
		return false
	}
	for i := range prefix {
		if path[i] != prefix[i] {
			return false
		}
	}
	return true
}

func equal(a, b []string) bool { return len(a) == len(b) && hasPrefix(a, b) }

func (idx *docIndex) set(doc []byte, path []string, encoded string) ([]byte, error) {
	parent := path[:len(path)-1]
	name := strings.Join(path, ".")
	// 1. The key exists: replace its value in place.
	for _, kv := range idx.keyvals {
		if kv.inArray && hasPrefix(path, kv.table) {
			continue
		}
		if equal(kv.full, path) {
			return splice(doc, kv.valueStart, kv.end, encoded), nil
		}
		if hasPrefix(path, kv.full) {
			what := "a value"
			if kv.inline {
				what = "an inline table"
			}
			return nil, fmt.Errorf("cannot set %s: %s is %s (line %d); edit it by hand", name, strings.Join(kv.full, "."), what, kv.line)
		}
	}
	for _, h := range idx.headers {
		if h.array && hasPrefix(path, h.path) {
			return nil, fmt.Errorf("cannot set %s: %s is an array of tables; edit it by hand", name, strings.Join(h.path, "."))
		}
	}
	// 2. A sibling exists: add the key after the last sibling, relative to
	// the table that sibling sits in (this also covers tables that exist only
	// through dotted keys, which TOML forbids redefining with a header).
	last := -1
	for i, kv := range idx.keyvals {
		if !kv.inArray && len(kv.full) > len(parent) && hasPrefix(kv.full, parent) && hasPrefix(parent, kv.table) {
			last = i
		}
	}
	if last >= 0 {
		kv := idx.keyvals[last]
		rel := path[len(kv.table):]
		at := lineEndOf(doc, kv.end)
		line := EncodeKey(rel) + " = " + encoded + "\n"
		if at == len(doc) && (len(doc) == 0 || doc[len(doc)-1] != '\n') {
			line = "\n" + line
		}
		return splice(doc, at, at, line), nil
	}
	// 3. The table has a header but no keys yet: add right below it.
	for _, h := range idx.headers {
		if !h.array && equal(h.path, parent) {
			line := EncodeKey(path[len(parent):]) + " = " + encoded + "\n"
			if h.lineEnd == len(doc) && (len(doc) == 0 || doc[len(doc)-1] != '\n') {
				line = "\n" + line
			}
			return splice(doc, h.lineEnd, h.lineEnd, line), nil
		}
	}
	// 4. A top-level key goes before the first table header.
	if len(parent) == 0 {
		line := EncodeKey(path) + " = " + encoded + "\n"
		if idx.firstHeaderLineStart >= 0 {
			return splice(doc, idx.firstHeaderLineStart, idx.firstHeaderLineStart, line+"\n"), nil
		}
		return appendBlock(doc, line), nil
	}
	// 5. A new table goes at the end.
	block := "[" + EncodeKey(parent) + "]\n" + EncodeKey(path[len(parent):]) + " = " + encoded + "\n"
	return appendBlock(doc, block), nil
}

func appendBlock(doc []byte, block string) []byte {
	out := append([]byte{}, doc...)
	if len(out) > 0 && out[len(out)-1] != '\n' {
		out = append(out, '\n')
	}
	if len(bytes.TrimSpace(out)) > 0 && !bytes.HasSuffix(out, []byte("\n\n")) && strings.HasPrefix(block, "[") {
		out = append(out, '\n')
	}
	return append(out, block...)
}

func splice(doc []byte, from, to int, s string) []byte {
	out := make([]byte, 0, len(doc)+len(s))
	out = append(out, doc[:from]...)
	out = append(out, s...)
	return append(out, doc[to:]...)
}

func verify(doc []byte, path []string, want any) error {
	var m map[string]any
	if err := toml.Unmarshal(doc, &m); err != nil {
		return err
	}
	var cur any = m
	for _, k := range path {
		t, ok := cur.(map[string]any)
		if !ok {
			return fmt.Errorf("%s not found after edit", strings.Join(path, "."))
		}
		cur = t[k]
	}
	enc1, err1 := EncodeValue(cur)
	enc2, err2 := EncodeValue(want)
	if err1 != nil || err2 != nil || enc1 != enc2 {
		if !reflect.DeepEqual(cur, want) {
			return fmt.Errorf("%s reads back as %v, not %v", strings.Join(path, "."), cur, want)
		}
	}
	return nil
}

func tomlUnmarshal(b []byte, v any) error { return toml.Unmarshal(b, v) }
