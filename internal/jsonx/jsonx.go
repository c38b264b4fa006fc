// Package jsonx parses JSON into values that keep object key order, because
// dlt creates columns in the order it first sees keys and Go maps would lose
// it. It is also faster than encoding/json into interface{}: no reflection,
// one pass, numbers typed once.
//
// Values are nil, bool, int64, float64, Number (integers outside int64),
// string, []any and *Object. Input must be UTF-8, as RFC 8259 says: a
// string holding other bytes is a SyntaxError at the first of them.
package jsonx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// Object is a JSON object with its keys in document order. Objects may
// share one Keys slice (a Parser's objects of the same shape do, as do a
// source's rows): change Keys only by appending (Set), never in place.
type Object struct {
	Keys   []string
	Values []any
}

// Get returns the value of key and whether it exists.
func (o *Object) Get(key string) (any, bool) {
	for i, k := range o.Keys {
		if k == key {
			return o.Values[i], true
		}
	}
	return nil, false
}

// Set sets key, appending it when new.
func (o *Object) Set(key string, v any) {
	for i, k := range o.Keys {
		if k == key {
			o.Values[i] = v
			return
		}
	}
	o.Keys = append(o.Keys, key)
	o.Values = append(o.Values, v)
}

// Len is the number of keys.
func (o *Object) Len() int { return len(o.Keys) }

// Number is an integer that does not fit in int64, kept as its digits.
type Number string

// SyntaxError is malformed JSON with the byte offset where it was found.
type SyntaxError struct {
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at byte %d: %s", e.Offset, e.Msg)
}

// Parse parses one JSON document. Trailing spaces are allowed; anything else
// after the value is an error.
func Parse(b []byte) (any, error) {
	p := parser{b: b}
	p.ws()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.i != len(p.b) {
		return nil, p.errf("unexpected %q after the value", p.b[p.i])
	}
	return v, nil
}

const maxDepth = 10000

type parser struct {
	b   []byte
	i   int
	buf []byte
	// keys and vals are scratch stacks: an object's members collect here
	// and are copied once into exactly sized slices; elems is the same
	// for arrays.
	keys  []string
	vals  []any
	elems []any
	// shapes holds recent objects' key lists: an object whose keys are
	// those of an earlier one (records of one shape) shares its slice.
	shapes *[shapeSlots][2][]string
	// intern reuses key strings: records repeat the same keys.
	intern map[string]string
	// recent is a direct-mapped cache in front of intern, indexed by a
	// hash computed while the key is scanned anyway: a hit is one compare
	// instead of a map lookup's hashing (the map was 4 % of a load's CPU).
	recent *[recentKeys]string
	// alias lets strings without escapes point into the input.
	alias bool
}

// Parser parses many documents, reusing its buffers and the key strings it
// has seen. It is not safe for concurrent use.
type Parser struct{ p parser }

// Parse parses one JSON document like the package-level Parse.
func (ps *Parser) Parse(b []byte) (any, error) {
	ps.p.alias = false
	return ps.parse(b)
}

// ParseShared is Parse for input that stays alive and unchanged while the
// returned values are used: plain strings share its memory instead of being
// copied. It saves an allocation per string on hot paths that own their
// buffers (a batch of records read from a file).
func (ps *Parser) ParseShared(b []byte) (any, error) {
	ps.p.alias = true
	return ps.parse(b)
}

func (ps *Parser) parse(b []byte) (any, error) {
	p := &ps.p
	if p.intern == nil {
		p.intern = make(map[string]string, 256)
		p.recent = new([recentKeys]string)
		p.shapes = new([shapeSlots][2][]string)
	}
	p.b, p.i = b, 0
	clear(p.vals)
	p.keys, p.vals = p.keys[:0], p.vals[:0]
	p.ws()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.i != len(p.b) {
		return nil, p.errf("unexpected %q after the value", p.b[p.i])
	}
	p.b = nil
	return v, nil
}

func (p *parser) errf(format string, args ...any) error {
	return &SyntaxError{Offset: p.i, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) value(depth int) (any, error) {
	if depth > maxDepth {
		return nil, p.errf("nested too deeply")
	}
	if p.i >= len(p.b) {
		return nil, p.errf("unexpected end of input")
	}
	switch c := p.b[p.i]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		return p.str()
	case c == 't':
		return p.lit("true", true)
	case c == 'f':
		return p.lit("false", false)
	case c == 'n':
		return p.lit("null", nil)
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	default:
		return nil, p.errf("unexpected %q", c)
	}
}

func (p *parser) lit(s string, v any) (any, error) {
	if len(p.b)-p.i < len(s) || string(p.b[p.i:p.i+len(s)]) != s {
		return nil, p.errf("invalid literal")
	}
	p.i += len(s)
	return v, nil
}

func (p *parser) object(depth int) (any, error) {
	p.i++ // {
	o := &Object{}
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		return o, nil
	}
	base := len(p.keys)
	finish := func() *Object {
		n := len(p.keys) - base
		o.Keys = p.shareKeys(p.keys[base:])
		o.Values = make([]any, n)
		copy(o.Values, p.vals[base:])
		clear(p.vals[base:])
		p.keys, p.vals = p.keys[:base], p.vals[:base]
		return o
	}
	for {
		p.ws()
		if p.i >= len(p.b) || p.b[p.i] != '"' {
			return nil, p.errf("expected a string key")
		}
		k, err := p.key()
		if err != nil {
			return nil, err
		}
		p.ws()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return nil, p.errf("expected ':' after object key")
		}
		p.i++
		p.ws()
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		p.keys = append(p.keys, k)
		p.vals = append(p.vals, v)
		p.ws()
		if p.i >= len(p.b) {
			return nil, p.errf("unexpected end of input in object")
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return finish(), nil
		default:
			return nil, p.errf("expected ',' or '}' in object")
		}
	}
}

func (p *parser) array(depth int) (any, error) {
	p.i++ // [
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		return []any{}, nil
	}
	// Elements collect on the scratch stack, then go into one slice of
	// the right size instead of an appended one's several.
	base := len(p.elems)
	for {
		p.ws()
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		p.elems = append(p.elems, v)
		p.ws()
		if p.i >= len(p.b) {
			return nil, p.errf("unexpected end of input in array")
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			a := make([]any, len(p.elems)-base)
			copy(a, p.elems[base:])
			clear(p.elems[base:])
			p.elems = p.elems[:base]
			return a, nil
		default:
			return nil, p.errf("expected ',' or ']' in array")
		}
	}
}

// key reads an object key, reusing an equal string seen before.
func (p *parser) key() (string, error) {
	if p.intern == nil {
		return p.str()
	}
	if end, h, ok := p.plainKey(); ok {
		k := p.b[p.i+1 : end]
		slot := &p.recent[h>>(64-recentBits)]
		if *slot == string(k) {
			p.i = end + 1
			return *slot, nil
		}
		if s, ok := p.intern[string(k)]; ok {
			*slot = s
			p.i = end + 1
			return s, nil
		}
	}
	s, err := p.str()
	if err == nil && len(s) <= 64 && len(p.intern) < 4096 {
		// A private copy: an interned key must not keep a shared input
		// buffer (ParseShared) alive.
		s = strings.Clone(s)
		p.intern[s] = s
	}
	return s, err
}

// plainKey finds the closing quote of the key at p.i when the key is at
// most 64 bytes without escapes or control characters, hashing it on the
// way, eight bytes at a time: keys are looked up for every member of
// every record, and a byte-at-a-time loop was the parser's largest cost.
func (p *parser) plainKey() (end int, h uint64, ok bool) {
	const mul = hashMul
	start := p.i + 1
	j := start
	for ; j+8 <= len(p.b) && j-start < 64; j += 8 {
		w := binary.LittleEndian.Uint64(p.b[j:])
		m := specialMask(w)
		if m == 0 {
			h = (h ^ w) * mul
			continue
		}
		at := bits.TrailingZeros64(m) / 8 // the first special byte
		if p.b[j+at] != '"' {
			return 0, 0, false
		}
		h = (h ^ w&(1<<(8*at)-1)) * mul
		return j + at, (h ^ uint64(j+at-start)) * mul, true
	}
	// The input's last (fewer than eight) bytes: one at a time.
	var w uint64
	for k := 0; j < len(p.b) && j-start < 64; j, k = j+1, k+1 {
		c := p.b[j]
		if c == '"' {
			h = (h ^ w) * mul
			return j, (h ^ uint64(j-start)) * mul, true
		}
		if c == '\\' || c < 0x20 {
			return 0, 0, false
		}
		w |= uint64(c) << (8 * k)
	}
	return 0, 0, false
}

// hashMul is the multiplier of the parser's hashes (2^64 / φ, as in
// Fibonacci hashing): it spreads their bits into the top ones, which
// index the caches.
const hashMul = 0x9E3779B97F4A7C15

// shapeSlots is the number of sets of the cache of key lists.
const shapeSlots = 256

// shareKeys returns an object's keys: an earlier object's slice when it
// holds the same keys, else a new one. Keys are mostly interned strings,
// so the hash is of their addresses and lengths.
func (p *parser) shareKeys(keys []string) []string {
	if p.shapes == nil || len(keys) == 0 {
		return append([]string(nil), keys...)
	}
	h := uint64(len(keys))
	for _, k := range keys {
		h = (h ^ uint64(uintptr(unsafe.Pointer(unsafe.StringData(k)))) ^ uint64(len(k))) * hashMul
	}
	// Two ways per set: a record's nested objects are finished just
	// before it, and one of them landing in its set must not evict it.
	set := &p.shapes[h>>56%shapeSlots]
	if slices.Equal(set[0], keys) {
		return set[0]
	}
	if slices.Equal(set[1], keys) {
		set[0], set[1] = set[1], set[0]
		return set[0]
	}
	// Exactly sized: an append to a shared slice (Set) makes a new one.
	set[1] = set[0]
	set[0] = append(make([]string, 0, len(keys)), keys...)
	return set[0]
}

// recentKeys is the size of the key cache: more than the distinct keys of
// most record shapes, so that they rarely evict each other.
const (
	recentBits = 10
	recentKeys = 1 << recentBits
)

func (p *parser) str() (string, error) {
	p.i++ // opening quote
	start := p.i
	// Fast path: no escapes. Eight bytes at a time while none of them is
	// a quote, a backslash or a control character (most of a record's
	// bytes are in long strings), then byte by byte.
	// The bytes are OR-ed together on the way: a string with any byte
	// of 0x80 or above must be valid UTF-8 (RFC 8259; DuckDB and
	// PostgreSQL refuse anything else at load, after the package is
	// normalized, and every later run would stop on it).
	var seen uint64
	for p.i+8 <= len(p.b) {
		w := binary.LittleEndian.Uint64(p.b[p.i:])
		if specialMask(w) != 0 {
			break
		}
		seen |= w
		p.i += 8
	}
	for p.i < len(p.b) {
		c := p.b[p.i]
		if c == '"' {
			if seen&highBits != 0 && !utf8.Valid(p.b[start:p.i]) {
				return "", p.badUTF8(start)
			}
			var s string
			if p.alias && p.i > start {
				// The caller keeps the input alive and unchanged for as
				// long as the values live (ParseShared).
				s = unsafe.String(&p.b[start], p.i-start)
			} else {
				s = string(p.b[start:p.i])
			}
			p.i++
			return s, nil
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return "", p.errf("control character in string")
		}
		seen |= uint64(c)
		p.i++
	}
	p.buf = append(p.buf[:0], p.b[start:p.i]...)
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			// Escapes append valid UTF-8; the raw bytes may not be.
			if seen&highBits != 0 && !utf8.Valid(p.buf) {
				return "", p.badUTF8(start)
			}
			p.i++
			return string(p.buf), nil
		case c < 0x20:
			return "", p.errf("control character in string")
		case c != '\\':
			seen |= uint64(c)
			p.buf = append(p.buf, c)
			p.i++
			continue
		}
		p.i++
		if p.i >= len(p.b) {
			break
		}
		switch e := p.b[p.i]; e {
		case '"', '\\', '/':
			p.buf = append(p.buf, e)
		case 'b':
			p.buf = append(p.buf, '\b')
		case 'f':
			p.buf = append(p.buf, '\f')
		case 'n':
			p.buf = append(p.buf, '\n')
		case 'r':
			p.buf = append(p.buf, '\r')
		case 't':
			p.buf = append(p.buf, '\t')
		case 'u':
			r, err := p.hex4()
			if err != nil {
				return "", err
			}
			if utf16.IsSurrogate(r) {
				// A high surrogate pairs with a low one in the next
				// escape; anything else is U+FFFD, and a following escape
				// that does not complete the pair is read on its own.
				r2 := rune(-1)
				if r < 0xDC00 && p.i+2 < len(p.b) && p.b[p.i+1] == '\\' && p.b[p.i+2] == 'u' {
					save := p.i
					p.i += 2
					var err error
					if r2, err = p.hex4(); err != nil {
						return "", err
					}
					if r2 < 0xDC00 || r2 > 0xDFFF {
						p.i, r2 = save, -1
					}
				}
				if r2 >= 0 {
					r = utf16.DecodeRune(r, r2)
				} else {
					r = utf8.RuneError
				}
			}
			p.buf = utf8.AppendRune(p.buf, r)
		default:
			return "", p.errf("invalid escape \\%c", e)
		}
		p.i++
	}
	return "", p.errf("unterminated string")
}

// highBits are the top bits of a word's bytes: set in a byte of 0x80 or
// above, which starts or continues a multi-byte UTF-8 sequence.
const highBits = 0x8080808080808080

// badUTF8 is the error for the string starting at start (after its
// quote) and ending before p.i: it points at the first byte that is not
// UTF-8.
func (p *parser) badUTF8(start int) error {
	at := start
	for at < p.i {
		r, size := utf8.DecodeRune(p.b[at:p.i])
		if r == utf8.RuneError && size <= 1 {
			break
		}
		at += size
	}
	return &SyntaxError{Offset: at, Msg: "a string is not valid UTF-8 (JSON text must be UTF-8: convert the source, e.g. with iconv)"}
}

// specialMask marks (high bit of the byte) the bytes of w that are '"',
// '\\' or below 0x20, with the bit tricks of "Bit Twiddling Hacks"
// (haszero, hasless): a byte above a marked one may be marked wrongly, but
// the lowest mark is exact, and so is whether there is any.
func specialMask(w uint64) uint64 {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	quote := w ^ (lo * '"')
	backslash := w ^ (lo * '\\')
	return ((quote-lo)&^quote | (backslash-lo)&^backslash | (w-lo*0x20)&^w) & hi
}

// hex4 reads the four hex digits after \u; p.i is at 'u' and ends on the
// last digit.
func (p *parser) hex4() (rune, error) {
	if p.i+4 >= len(p.b) {
		return 0, p.errf("short \\u escape")
	}
	var r rune
	for _, c := range p.b[p.i+1 : p.i+5] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, p.errf("invalid \\u escape")
		}
	}
	p.i += 4
	return r, nil
}

var errRange = errors.New("number out of range")

func (p *parser) number() (any, error) {
	start := p.i
	if p.b[p.i] == '-' {
		p.i++
	}
	digits := p.i
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		p.i++
	}
	if p.i == digits {
		return nil, p.errf("invalid number")
	}
	if p.b[digits] == '0' && p.i-digits > 1 {
		return nil, p.errf("leading zero in number")
	}
	isFloat := false
	if p.i < len(p.b) && p.b[p.i] == '.' {
		isFloat = true
		p.i++
		f := p.i
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			p.i++
		}
		if p.i == f {
			return nil, p.errf("invalid number")
		}
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		isFloat = true
		p.i++
		if p.i < len(p.b) && (p.b[p.i] == '+' || p.b[p.i] == '-') {
			p.i++
		}
		e := p.i
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			p.i++
		}
		if p.i == e {
			return nil, p.errf("invalid number")
		}
	}
	s := p.b[start:p.i]
	if !isFloat {
		if len(s) < 19 {
			var n int64
			neg := s[0] == '-'
			for _, c := range s {
				if c != '-' {
					n = n*10 + int64(c-'0')
				}
			}
			if neg {
				n = -n
			}
			return n, nil
		}
		if n, err := strconv.ParseInt(string(s), 10, 64); err == nil {
			return n, nil
		}
		return Number(s), nil
	}
	f, err := strconv.ParseFloat(string(s), 64)
	if err != nil || math.IsInf(f, 0) {
		return nil, &SyntaxError{Offset: start, Msg: errRange.Error()}
	}
	return f, nil
}
