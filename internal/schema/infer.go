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

// IsISOTimestamp reports whether s looks like an ISO 8601 date-time.
func IsISOTimestamp(s string) bool {
	// Cheap shape test first: most strings are not timestamps.
	if len(s) < 16 || len(s) > 35 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') || s[13] != ':' {
		return false
	}
	if !isoTimestampShape(s) {
		return false
	}
	h, _ := strconv.Atoi(s[11:13])
	mi, _ := strconv.Atoi(s[14:16])
	if !existingDate(s[:10]) || h > 23 || mi > 59 {
		return false
	}
	// What dlt's parser (pendulum) refuses of the shape, so dlt keeps the
	// text: second 60, a lowercase z, an offset past 24 hours. A day the
	// month does not have was detected here and written as NULL by the
	// Parquet job files (DuckDB cannot read it either).
	rest := s[16:]
	if len(rest) >= 3 && rest[0] == ':' {
		if sec, _ := strconv.Atoi(rest[1:3]); sec > 59 {
			return false
		}
	}
	if strings.HasSuffix(s, "z") {
		return false
	}
	if k := strings.IndexAny(rest, "+-"); k >= 0 {
		z := rest[k+1:] // HH, HHMM or HH:MM: the shape checked the digits
		oh, om := int(z[0]-'0')*10+int(z[1]-'0'), 0
		if len(z) > 2 {
			om = int(z[len(z)-2]-'0')*10 + int(z[len(z)-1]-'0')
		}
		if oh > 24 || oh == 24 && om > 0 {
			return false
		}
	}
	return true
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

// isoTimestampShape is dlt's default "iso_timestamp" detection, the
// language of
//
//	^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|z|[+-]\d{2}(:?\d{2})?)?$
//
// (a date with a time of day, optional seconds, fraction and zone; dates
// alone stay text) matched by hand: it runs for every string value, and
// the regexp was 5% of normalizing.
func isoTimestampShape(s string) bool {
	digits := func(i, n int) bool {
		if i+n > len(s) {
			return false
		}
		for _, c := range []byte(s[i : i+n]) {
			if c < '0' || c > '9' {
				return false
			}
		}
		return true
	}
	if len(s) < 16 || !digits(0, 4) || s[4] != '-' || !digits(5, 2) || s[7] != '-' || !digits(8, 2) ||
		(s[10] != 'T' && s[10] != ' ') || !digits(11, 2) || s[13] != ':' || !digits(14, 2) {
		return false
	}
	i := 16
	if i < len(s) && s[i] == ':' {
		if !digits(i+1, 2) {
			return false
		}
		i += 3
		if i < len(s) && s[i] == '.' {
			n := 0
			for i+1+n < len(s) && s[i+1+n] >= '0' && s[i+1+n] <= '9' {
				n++
			}
			if n < 1 || n > 9 {
				return false
			}
			i += 1 + n
		}
	}
	switch {
	case i == len(s):
		return true
	case s[i] == 'Z' || s[i] == 'z':
		return i+1 == len(s)
	case s[i] == '+' || s[i] == '-':
		if !digits(i+1, 2) {
			return false
		}
		i += 3
		if i == len(s) {
			return true
		}
		if s[i] == ':' {
			i++
		}
		return i+2 == len(s) && digits(i, 2)
	}
	return false
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
			if s := v.(string); IsISOTimestamp(s) {
				return s, true
			}
		case Bigint, Double:
			// Seconds since the epoch, within dlt's range (Python's
			// datetime: years 1 to 9999); dlt keeps others in a variant
			// column, and destinations cannot store most of them.
			f := toFloat(v)
			if !(f >= minUnixSeconds && f < maxUnixSeconds) {
				return nil, false
			}
			sec, frac := math.Modf(f)
			return time.Unix(int64(sec), int64(frac*1e9)).UTC().Format(time.RFC3339Nano), true
		}
	case Date:
		switch from {
		case Text:
			s := v.(string)
			if len(s) == 8 && digitsOnly(s) {
				// ISO 8601's basic form, which dlt (pendulum) reads too.
				s = s[0:4] + "-" + s[4:6] + "-" + s[6:8]
			}
			if isCalendarDate(s) {
				return s, true
			}
		case Timestamp:
			if t, ok := v.(time.Time); ok {
				return t.UTC().Format(time.DateOnly), true
			}
			if s, ok := v.(string); ok && len(s) >= 10 {
				return s[:10], true
			}
		}
	case Time:
		if from == Text {
			if s := v.(string); isoTime.MatchString(s) && validClock(s) {
				return s, true
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

// digitsOnly reports whether s is ASCII digits only.
func digitsOnly(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
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
	if t == Binary {
		if s, ok := v.(string); ok {
			return strings.TrimPrefix(s, jsonx.BinaryMarker)
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
