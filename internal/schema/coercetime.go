package schema

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// dlt's coercions of strings and numbers into timestamp, date and time
// columns (dlt.common.time, data_types.type_helpers), on the parsers of
// pendulum.go and Python's own date.fromisoformat and float(), whose
// rules they follow too.

// pendulumDatetime is dlt's _parse_pendulum_datetime of a string, where
// its timestamp and date coercions start: a datetime or a date, else
// Python's float() of s as seconds since the epoch (kindNone, us set);
// ok is false for a time of day and for what none of them reads.
func pendulumDatetime(s string) (p isoParts, k isoKind, us int64, ok bool) {
	switch p, k = parseISOLike(s); k {
	case kindDatetime, kindDate:
		return p, k, 0, true
	case kindTime:
		return p, k, 0, false
	}
	f, ok := pyFloat(s)
	if !ok {
		return p, k, 0, false
	}
	us, ok = epochMicros(f)
	return p, kindNone, us, ok
}

// coerceTimestampText is dlt's coercion of text into a timestamp column
// (ensure_datetime): a date is its midnight.
func coerceTimestampText(s string) (string, bool) {
	p, k, us, ok := pendulumDatetime(s)
	switch {
	case !ok:
		return "", false
	case k == kindNone:
		return time.UnixMicro(us).UTC().Format(time.RFC3339Nano), true
	}
	return p.extended(), true
}

// coerceTimeText is dlt's coercion of text into a time column
// (ensure_pendulum_time): a time of day as parse_iso_like_datetime reads
// it, one with an offset moved to UTC (a date with it fails), written
// HH:MM:SS[.ffffff].
func coerceTimeText(s string) (string, bool) {
	p, k := parseISOLike(s)
	if k != kindTime || p.offset <= -24*60 || p.offset >= 24*60 {
		return "", false // Python's timezone takes less than a day
	}
	us := (int64(p.hour*3600+p.minute*60+p.second)-int64(p.offset)*60)*1_000_000 + int64(p.usec)
	us = (us%86_400_000_000 + 86_400_000_000) % 86_400_000_000
	sec := int(us / 1_000_000)
	b := appendInt(nil, sec/3600, 2)
	b = append(b, ':')
	b = appendInt(b, sec/60%60, 2)
	b = append(b, ':')
	b = appendInt(b, sec%60, 2)
	if frac := int(us % 1_000_000); frac != 0 {
		b = append(b, '.')
		b = appendInt(b, frac, 6)
	}
	return string(b), true
}

// coerceDateText is dlt's coercion of a string into a date column
// (_text_to_date_fast): Python's date.fromisoformat, else
// ensure_pendulum_date: the day the value falls on in UTC, an offset
// applied first. (dlt's normalizer coerces every string of an existing
// column from text, detected timestamps too.)
func coerceDateText(s string) (string, bool) {
	if y, m, d, ok := pyDateFromISO(s); ok {
		return string(appendDate(nil, y, m, d)), true
	}
	p, k, us, ok := pendulumDatetime(s)
	switch {
	case !ok:
		return "", false
	case k == kindDate:
		return string(appendDate(nil, p.year, p.month, p.day)), true
	case k == kindDatetime:
		us = p.micros()
	}
	return dateOfMicros(us)
}

// pyDateFromISO is Python 3.11's date.fromisoformat, quirks included: a
// string of 7, 8 or 10 bytes whose start is YYYY-MM-DD, YYYYMMDD,
// YYYY-Www[-D] or YYYYWww[D]; what follows the fields is not looked at
// ("20240518Tz" is 2024-05-18).
func pyDateFromISO(s string) (y, m, d int, ok bool) {
	if n := len(s); n != 7 && n != 8 && n != 10 {
		return 0, 0, 0, false
	}
	at := func(i int) byte { // C's NUL-terminated string
		if i < len(s) {
			return s[i]
		}
		return 0
	}
	i := 0
	num := func(n int) (int, bool) {
		v := 0
		for range n {
			c := at(i)
			if !isDigit(c) {
				return 0, false
			}
			v = v*10 + int(c-'0')
			i++
		}
		return v, true
	}
	if y, ok = num(4); !ok {
		return 0, 0, 0, false
	}
	sep := at(i) == '-'
	if sep {
		i++
	}
	if at(i) == 'W' {
		i++
		week, ok := num(2)
		if !ok {
			return 0, 0, 0, false
		}
		wday := 1
		if i < len(s) {
			if sep {
				if at(i) != '-' {
					return 0, 0, 0, false
				}
				i++
			}
			if wday, ok = num(1); !ok {
				return 0, 0, 0, false
			}
		}
		return pyISOWeekDate(y, week, wday)
	}
	if m, ok = num(2); !ok {
		return 0, 0, 0, false
	}
	if sep {
		if at(i) != '-' {
			return 0, 0, 0, false
		}
		i++
	}
	if d, ok = num(2); !ok {
		return 0, 0, 0, false
	}
	if y < 1 || m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m) {
		return 0, 0, 0, false
	}
	return y, m, d, true
}

// pyISOWeekDate is CPython's iso_to_ymd: weeks 1 to 52, 53 in years that
// start on a Thursday (or a Wednesday, leap), days 1 to 7.
func pyISOWeekDate(year, week, wday int) (y, m, d int, ok bool) {
	jan1 := DaysFromCivil(year, 1, 1)
	first := ((jan1+3)%7 + 7) % 7 // 0 is Monday (1970-01-01 was a Thursday)
	if week <= 0 || week >= 53 {
		long := first == 3 || first == 2 && isLeap(year) // starts on a Thursday, or a leap Wednesday
		if week != 53 || !long {
			return 0, 0, 0, false
		}
	}
	if wday <= 0 || wday >= 8 {
		return 0, 0, 0, false
	}
	monday := jan1 - first
	if first > 3 {
		monday += 7
	}
	t := time.Unix(int64(monday+(week-1)*7+wday-1)*86400, 0).UTC()
	if t.Year() < 1 || t.Year() > 9999 {
		return 0, 0, 0, false
	}
	return t.Year(), int(t.Month()), t.Day(), true
}

// epochMicros is Python's datetime.fromtimestamp(f) (pendulum's
// from_timestamp) as microseconds since the epoch: the fraction rounded
// half to even, in years 1 to 9999 (dlt keeps others in a variant column,
// and destinations cannot store most of them).
func epochMicros(f float64) (int64, bool) {
	if !(f >= minUnixSeconds && f < maxUnixSeconds) {
		return 0, false
	}
	sec, frac := math.Modf(f)
	us := math.RoundToEven(frac * 1e6)
	switch {
	case us >= 1e6:
		sec, us = sec+1, us-1e6
	case us < 0:
		sec, us = sec-1, us+1e6
	}
	t := int64(sec)*1_000_000 + int64(us)
	if t >= maxUnixSeconds*1_000_000 {
		return 0, false
	}
	return t, true
}

// epochTimestamp is a number coerced into a timestamp column: seconds
// since the epoch.
func epochTimestamp(f float64) (string, bool) {
	us, ok := epochMicros(f)
	if !ok {
		return "", false
	}
	return time.UnixMicro(us).UTC().Format(time.RFC3339Nano), true
}

// epochDate is the UTC day of f seconds since the epoch (dlt's date
// coercion of a number).
func epochDate(f float64) (string, bool) {
	us, ok := epochMicros(f)
	if !ok {
		return "", false
	}
	return dateOfMicros(us)
}

// dateOfMicros is the UTC day of an instant, in years 1 to 9999 (Python
// raises OverflowError past them, and dlt keeps the value in a variant).
func dateOfMicros(us int64) (string, bool) {
	t := time.UnixMicro(us).UTC()
	if t.Year() < 1 || t.Year() > 9999 {
		return "", false
	}
	return t.Format(time.DateOnly), true
}

func appendDate(b []byte, y, m, d int) []byte {
	b = appendInt(b, y, 4)
	b = append(b, '-')
	b = appendInt(b, m, 2)
	b = append(b, '-')
	return appendInt(b, d, 2)
}

// pyFloat is Python's float() of a string, for the finite numbers: spaces
// around, a sign, digits with single underscores between them, a point,
// an exponent ("inf" and "nan" fail here, as they do converted to a time
// in dlt).
func pyFloat(s string) (float64, bool) {
	s = strings.TrimFunc(s, func(r rune) bool { return unicode.IsSpace(r) || r >= 0x1c && r <= 0x1f })
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := func() int { // a run of digits with single underscores between
		n, start := 0, i
		for i < len(s) {
			switch {
			case isDigit(s[i]):
				n++
				i++
			case s[i] == '_' && i > start && isDigit(s[i-1]) && i+1 < len(s) && isDigit(s[i+1]):
				i++
			default:
				return n
			}
		}
		return n
	}
	n := digits()
	if i < len(s) && s[i] == '.' {
		i++
		n += digits()
	}
	if n == 0 {
		return 0, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return 0, false
		}
	}
	if i != len(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false
	}
	return f, !math.IsInf(f, 0)
}
