package schema

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/dlthub/dlthub/internal/jsonx"
)

// IsISOTimestamp reports whether dlt detects s as a timestamp: whether
// its parse_iso_like_datetime makes a datetime of it (isotime.go).
func IsISOTimestamp(s string) bool {
	_, ok := parseISOTimestamp(s)
	return ok
}

// daysInMonth is the number of days of month m (1-12) of year y.
func daysInMonth(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// InferType returns the data type of a scalar value (nil has none). Nested
// objects and lists infer as json: the normalizer flattens them before they
// get here unless nesting is exhausted.
func InferType(v any) (DataType, bool) {
	switch x := v.(type) {
	case nil:
		return "", false
	case bool:
		return Bool, true
	case int64, int, int32, int16, int8, uint8, uint16, uint32:
		return Bigint, true
	case uint64:
		if x > math.MaxInt64 {
			return Wei, true
		}
		return Bigint, true
	case uint:
		return Bigint, true
	case float64, float32:
		return Double, true
	case jsonx.Number:
		// An integer past 64 bits is wei, up to the 38 digits a wei
		// column holds (DuckDB's DECIMAL(38,0), as dlt maps it); a longer
		// one is kept as text, which every destination stores.
		if len(strings.TrimPrefix(string(x), "-")) > MaxDecimalPrecision {
			return Text, true
		}
		return Wei, true
	case json.Number:
		if _, err := x.Int64(); err == nil {
			return Bigint, true
		}
		if strings.ContainsAny(string(x), ".eE") {
			return Double, true
		}
		return Wei, true
	case string:
		if IsISOTimestamp(x) {
			return Timestamp, true
		}
		if strings.HasPrefix(x, jsonx.BinaryMarker) {
			return Binary, true
		}
		return Text, true
	case time.Time:
		return Timestamp, true
	case []byte:
		return Binary, true
	default:
		return JSON, true
	}
}

// Coerce converts v (of type from) to the column type to, returning the
// value as it will be written. ok is false when it does not fit; the caller
// then puts it in a variant column. The rules follow dlt's coerce_value:
// anything becomes text, numbers convert when nothing is lost, text parses
// into numbers, booleans and timestamps.
func Coerce(v any, from, to DataType) (any, bool) {
	if from == to {
		return Canonical(v, to), true
	}
	switch to {
	case Text:
		switch x := v.(type) {
		case bool:
			if x {
				return "True", true
			}
			return "False", true
		case string:
			return strings.TrimPrefix(x, jsonx.BinaryMarker), true
		case time.Time:
			return x.Format(time.RFC3339Nano), true
		case []byte:
			return base64.StdEncoding.EncodeToString(x), true
		}
		if from == JSON {
			b, err := json.Marshal(toPlain(v))
			return string(b), err == nil
		}
		return numberString(v), true
	case Bigint:
		switch from {
		case Double:
			f := toFloat(v)
			if f == math.Trunc(f) && math.Abs(f) < 1<<63 {
				return int64(f), true
			}
		case Text:
			if n, err := strconv.ParseInt(strings.TrimSpace(v.(string)), 10, 64); err == nil {
				return n, true
			}
		}
	case Double:
		switch from {
		case Bigint:
			return toFloat(v), true
		case Text:
			if f, err := strconv.ParseFloat(strings.TrimSpace(v.(string)), 64); err == nil {
				return f, true
			}
		}
	case Decimal, Wei:
		switch from {
		case Bigint, Wei, Decimal, Double:
			return numberString(v), true
		case Text:
			s := strings.TrimSpace(v.(string))
			if _, err := strconv.ParseFloat(s, 64); err == nil {
				return s, true
			}
		}
	case Bool:
		switch from {
		case Bigint, Double, Decimal, Wei:
			// dlt's bool(): any number but zero is true.
			f, err := strconv.ParseFloat(numberString(v), 64)
			return f != 0, err == nil
		}
		if from == Text {
			switch strings.ToLower(strings.TrimSpace(v.(string))) {
			case "true", "t", "yes", "y", "1", "on":
				return true, true
			case "false", "f", "no", "n", "0", "off":
				return false, true
			}
		}
	case Timestamp:
		switch from {
		case Text:
			if s, ok := coerceTimestampText(v.(string)); ok {
				return s, true
			}
		case Bigint, Double:
			if s, ok := epochTimestamp(toFloat(v)); ok {
				return s, true
			}
		}
	case Date:
		switch from {
		case Text:
			s := v.(string)
			if isCalendarDate(s) {
				return s, true // the common case, as it is
			}
			if d, ok := coerceDateText(s); ok {
				return d, true
			}
		case Timestamp:
			if t, ok := v.(time.Time); ok {
				return t.UTC().Format(time.DateOnly), true
			}
			// The day in UTC: "…T23:00:00-05:00" is the next day.
			if d, ok := coerceDateText(v.(string)); ok {
				return d, true
			}
		case Bigint, Double:
			if d, ok := epochDate(toFloat(v)); ok {
				return d, true
			}
		}
	case Time:
		if s, ok := v.(string); ok && (from == Text || from == Timestamp) {
			if isoTime.MatchString(s) && validClock(s) && len(s) <= len("15:04:05.000000") {
				return s, true // the common case, as it is (microseconds at most)
			}
			if t, ok := coerceTimeText(s); ok {
				return t, true
			}
		}
	case Binary:
		if from == Text {
			if b, err := base64.StdEncoding.DecodeString(v.(string)); err == nil {
				return base64.StdEncoding.EncodeToString(b), true
			}
		}
	case JSON:
		return toPlain(v), true
	}
	return nil, false
}

// The epoch seconds of 0001-01-01T00:00:00Z and 10000-01-01T00:00:00Z.
const (
	minUnixSeconds = -62135596800
	maxUnixSeconds = 253402300800
)

// isCalendarDate reports whether s is YYYY-MM-DD, a day that exists, in
// years 1 to 9999: what dlt coerces to a date from this form (other text
// goes to a variant column). PostgreSQL refused the rest at load, and
// every later run stopped on the package; DuckDB's job files refused
// them while normalizing, with the same effect.
func isCalendarDate(s string) bool {
	return isoDate.MatchString(s) && existingDate(s)
}

// existingDate reports whether YYYY-MM-DD (digits already checked) is a
// day the calendar has, in years 1 to 9999.
func existingDate(s string) bool {
	y, _ := strconv.Atoi(s[0:4])
	m, _ := strconv.Atoi(s[5:7])
	d, _ := strconv.Atoi(s[8:10])
	return y >= 1 && m >= 1 && m <= 12 && d >= 1 && d <= daysInMonth(y, m)
}

// validClock reports whether a time of isoTime's shape is a time of day
// (hour to 23, minute and second to 59), as dlt coerces.
func validClock(s string) bool {
	h, _ := strconv.Atoi(s[0:2])
	m, _ := strconv.Atoi(s[3:5])
	sec := 0
	if len(s) >= 8 {
		sec, _ = strconv.Atoi(s[6:8])
	}
	return h <= 23 && m <= 59 && sec <= 59
}

var (
	isoDate = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	isoTime = regexp.MustCompile(`^\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?$`)
)

// Canonical returns v in the form written to load files for type t.
func Canonical(v any, t DataType) any {
	if s, ok := v.(string); ok {
		switch t {
		case Binary:
			return strings.TrimPrefix(s, jsonx.BinaryMarker)
		case Timestamp:
			if c := canonicalTimestamp(s); len(c) != len(s) || c != s {
				return c
			}
			return v // not boxed again
		}
	}
	switch x := v.(type) {
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	case jsonx.Number:
		return json.Number(x)
	case *jsonx.Object, []any, map[string]any:
		if t == JSON {
			return toPlain(x)
		}
	}
	return v
}

func numberString(v any) string {
	switch x := v.(type) {
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		// dlt turns a double into text with Python's str(): 1.0 is "1.0".
		return string(jsonx.AppendFloatRepr(nil, x))
	case jsonx.Number:
		return string(x)
	case json.Number:
		return string(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case int:
		return float64(x)
	case float64:
		return x
	case float32:
		return float64(x)
	}
	return math.NaN()
}

// toPlain turns ordered objects into a JSON-marshalable form that keeps
// key order.
func toPlain(v any) any {
	switch x := v.(type) {
	case *jsonx.Object:
		return orderedJSON{x}
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = toPlain(e)
		}
		return out
	case jsonx.Number:
		return json.Number(x)
	}
	return v
}

type orderedJSON struct{ o *jsonx.Object }

func (o orderedJSON) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range o.o.Keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(toPlain(o.o.Values[i]))
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}
