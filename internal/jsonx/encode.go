package jsonx

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"
)

// BinaryMarker starts a string that holds base64 bytes.
const BinaryMarker = "\uF02B"

// Raw is a record that is already JSON text; it is written as is, on one
// line (AppendRaw).
type Raw []byte

// AppendRaw writes JSON text to b on one line: extract files hold a record
// per line, and JSON text from elsewhere (an API's pretty-printed body, a
// json.RawMessage) may break lines between tokens. Those line breaks
// become spaces; a line break inside a string is not JSON (it must be
// written \n) and is an error. Text without line breaks, the common case,
// is appended as is after one vectorized scan.
func AppendRaw(b []byte, raw []byte) ([]byte, error) {
	if bytes.IndexByte(raw, '\n') < 0 && bytes.IndexByte(raw, '\r') < 0 {
		return append(b, raw...), nil
	}
	inString, escaped := false, false
	for i, c := range raw {
		switch {
		case c == '\n' || c == '\r':
			if inString {
				return b, fmt.Errorf("a line break inside a string at byte %d (JSON writes it as \\n)", i)
			}
			c = ' '
		case inString && escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		}
		b = append(b, c)
	}
	return b, nil
}

// Append writes v as JSON to b. Objects keep their key order; Go maps are
// handed to encoding/json (sorted keys).
func Append(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case bool:
		if x {
			return append(b, "true"...), nil
		}
		return append(b, "false"...), nil
	case string:
		return AppendString(b, x), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case float64:
		// As Python writes floats: a whole number keeps its ".0", so a
		// record written to an extract file and read back by the
		// normalizer still has a float there (dlt infers double, not
		// bigint).
		return AppendFloat(b, x), nil
	case Number:
		return append(b, x...), nil
	case json.Number:
		return append(b, x...), nil
	case Raw:
		return AppendRaw(b, x)
	case time.Time:
		return AppendString(b, x.UTC().Format(time.RFC3339Nano)), nil
	case []byte:
		// Bytes survive the trip through extract files as a marked base64
		// string (dlt marks typed values with private-use characters too).
		return AppendString(b, BinaryMarker+base64.StdEncoding.EncodeToString(x)), nil
	case *Object:
		return appendObject(b, x.Keys, func(i int) any { return x.Values[i] }, nil, AppendString, Append)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return appendObject(b, keys, func(i int) any { return x[keys[i]] }, nil, AppendString, Append)
	case []any:
		return appendArray(b, x, Append)
	default:
		j, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		return append(b, j...), nil
	}
}

const hexDigits = "0123456789abcdef"

// AppendString writes s as a JSON string, safe inside JavaScript too
// (U+2028 and U+2029 escaped).
func AppendString(b []byte, s string) []byte { return appendString(b, s, false) }

// appendPyString writes s as orjson does: '"' and '\\' escaped, control
// characters as \b \f \n \r \t or \u00XX, everything else as it is.
// Bytes that are not UTF-8 (a Python string cannot hold them) become
// U+FFFD.
func appendPyString(b []byte, s string) []byte { return appendString(b, s, true) }

func appendString(b []byte, s string, py bool) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case py && c == '\b':
				b = append(b, '\\', 'b')
			case py && c == '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			if py {
				b = append(b, "\uFFFD"...)
			} else {
				b = append(b, `\ufffd`...)
			}
			i += size
			start = i
			continue
		}
		if !py && (r == '\u2028' || r == '\u2029') {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendObject writes an object's members, the i-th with key keys[i] and
// value value(i), in the order of order when given (indexes into keys),
// else in the order of keys.
func appendObject(b []byte, keys []string, value func(int) any, order []int,
	str func([]byte, string) []byte, enc func([]byte, any) ([]byte, error)) ([]byte, error) {
	b = append(b, '{')
	for n := range keys {
		i := n
		if order != nil {
			i = order[n]
		}
		if n > 0 {
			b = append(b, ',')
		}
		b = str(b, keys[i])
		b = append(b, ':')
		var err error
		if b, err = enc(b, value(i)); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// appendArray writes a JSON array of x's elements, each written by enc.
func appendArray(b []byte, x []any, enc func([]byte, any) ([]byte, error)) ([]byte, error) {
	b = append(b, '[')
	for i, e := range x {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = enc(b, e); err != nil {
			return nil, err
		}
	}
	return append(b, ']'), nil
}
