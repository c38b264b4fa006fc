package jsonx

import (
	"crypto/sha3"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// AppendSorted writes v to b as dlt's json.dumpb(v, sort_keys=True)
// writes it with orjson, byte for byte: no spaces, the keys of every object
// sorted, floats in Python's shortest round-trip digits laid out as orjson
// lays them out ("1.0", "0.00001", "1e-7", "1e+16"), strings as raw UTF-8
// with only '"', '\\' and control characters escaped, times as
// isoformat(), bytes as base64. dlt hashes these bytes into row keys (the
// row hash of scd2 tables, the key hash of upsert tables), so a record
// loaded here must give the same bytes to get the row key dlt gave it;
// Append keeps document order and escapes for JavaScript, which is right
// for stored JSON but not for that.
func AppendSorted(b []byte, v any) ([]byte, error) { return appendSorted(b, v, false) }

// Digest is dlt's digest128b(b, size): SHAKE-128 of b, size bytes long,
// base64 without padding. dlt makes its row hashes, nested row keys and
// incremental dedup hashes this way from the bytes AppendSorted and
// AppendDedup write.
func Digest(b []byte, size int) string {
	return base64.RawStdEncoding.EncodeToString(sha3.SumSHAKE128(b, size))
}

// AppendDedup writes v as dlt's digest_dedup_value serializes it before
// hashing (json.dumps with sort_keys and times as whole microseconds since
// the epoch): as AppendSorted, but a time is a number. Incremental cursors
// hash records on their boundary with it, so the hashes kept in state are
// the ones dlt keeps.
func AppendDedup(b []byte, v any) ([]byte, error) { return appendSorted(b, v, true) }

func appendSorted(b []byte, v any, micros bool) ([]byte, error) {
	enc := AppendSorted
	if micros {
		enc = AppendDedup
	}
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case bool:
		if x {
			return append(b, "true"...), nil
		}
		return append(b, "false"...), nil
	case string:
		return appendPyString(b, x), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case float64:
		return AppendFloat(b, x), nil
	case Number:
		return append(b, x...), nil
	case json.Number:
		if !strings.ContainsAny(string(x), ".eE") {
			return append(b, x...), nil // an integer, however long
		}
		f, err := x.Float64()
		if err != nil {
			return nil, fmt.Errorf("number %q: %w", string(x), err)
		}
		return AppendFloat(b, f), nil
	case time.Time:
		if micros {
			return strconv.AppendInt(b, x.UnixMicro(), 10), nil
		}
		return appendPyString(b, pyISOTime(x)), nil
	case []byte:
		return appendPyString(b, base64.StdEncoding.EncodeToString(x)), nil
	case *Object:
		order := make([]int, len(x.Keys))
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(i, j int) int { return strings.Compare(x.Keys[i], x.Keys[j]) })
		return appendObject(b, x.Keys, func(i int) any { return x.Values[i] }, order, appendPyString, enc)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return appendObject(b, keys, func(i int) any { return x[keys[i]] }, nil, appendPyString, enc)
	case []any:
		return appendArray(b, x, enc)
	default:
		// Other Go values (structs of the Go SDK) go through encoding/json
		// and are read back, so their objects are sorted too.
		j, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		parsed, err := Parse(j)
		if err != nil {
			return nil, err
		}
		return enc(b, parsed)
	}
}

// AppendFloat writes f as orjson does: Python's shortest digits that
// read back as f, in positional notation for decimal exponents -5 to 15
// ("100.0", "0.00001"), otherwise scientific with the exponent unpadded
// and signed ("1e-7", "1.5e+16"). A whole number keeps its ".0", so it is
// read back as a float, not an integer. NaN and the infinities are null,
// as orjson writes them.
func AppendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	return appendPyFloat(b, f, -5, 1)
}

// AppendFloatRepr writes f as Python's str() and repr() do, which is how
// dlt turns a double into text: as AppendFloat but scientific below
// 1e-4 and with two exponent digits at least ("1e-05", "1e+16").
func AppendFloatRepr(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "nan"...)
	case math.IsInf(f, 1):
		return append(b, "inf"...)
	case math.IsInf(f, -1):
		return append(b, "-inf"...)
	}
	return appendPyFloat(b, f, -4, 2)
}

// appendPyFloat lays out f's shortest digits: positional for decimal
// exponents from minFixed to 15, scientific otherwise with at least
// expDigits exponent digits.
func appendPyFloat(b []byte, f float64, minFixed, expDigits int) []byte {
	var buf [32]byte
	s := strconv.AppendFloat(buf[:0], f, 'e', -1, 64) // -d.ddde±XX
	if s[0] == '-' {
		b = append(b, '-')
		s = s[1:]
	}
	e := 0
	var digits [24]byte
	nd := 0
	for i, c := range s {
		if c == 'e' {
			e, _ = strconv.Atoi(string(s[i+1:]))
			break
		}
		if c != '.' {
			digits[nd] = c
			nd++
		}
	}
	d := digits[:nd]
	switch {
	case e >= 16 || e < minFixed:
		b = append(b, d[0])
		if len(d) > 1 {
			b = append(b, '.')
			b = append(b, d[1:]...)
		}
		b = append(b, 'e')
		if e >= 0 {
			b = append(b, '+')
		} else {
			b = append(b, '-')
			e = -e
		}
		if expDigits == 2 && e < 10 {
			b = append(b, '0')
		}
		return strconv.AppendInt(b, int64(e), 10)
	case e < 0:
		b = append(b, '0', '.')
		for i := 0; i < -e-1; i++ {
			b = append(b, '0')
		}
		return append(b, d...)
	case len(d) <= e+1:
		b = append(b, d...)
		for i := len(d); i < e+1; i++ {
			b = append(b, '0')
		}
		return append(b, '.', '0')
	default:
		b = append(b, d[:e+1]...)
		b = append(b, '.')
		return append(b, d[e+1:]...)
	}
}

// pyISOTime is Python's datetime.isoformat() of an aware datetime, which
// orjson writes too: microseconds only when there are any, the offset as
// +HH:MM.
func pyISOTime(t time.Time) string {
	layout := "2006-01-02T15:04:05"
	if t.Nanosecond()/1000 != 0 {
		layout += ".000000"
	}
	return t.Format(layout + "-07:00")
}
