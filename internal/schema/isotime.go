package schema

import (
	"fmt"
	"time"
)

// dlt detects a timestamp in a string when dlt.common.time's
// parse_iso_like_datetime makes a datetime of it: pendulum's ISO 8601
// parser (pendulum 3's Rust parse_iso8601), or, when that refuses the
// string, pendulum's "common" pattern. Both accept much more than the
// extended form most data has: basic dates (20240101T1000Z), week and
// ordinal dates (2024-W01-1T10:00, 2024-001T10:00), an hour alone
// (2024-01-01T10Z), comma fractions, fractions of any length, and
// 2024/01/15 10:00 or "2024 1:5". A column dlt makes a timestamp the
// engine must too (the table layout is dlt's), so pendulum.go ports both
// parsers, line by line where the order of their checks decides; the
// harness (TestTimestampsMatchDlt) holds them to the pinned dlt.
//
// Strings in the extended form the job files' readers parse
// (extendedForm) are written as they are; the others are rewritten into
// it (canonicalTimestamp).

// isoParts is a parsed date and time of day, with the offset in minutes
// east of UTC (none: naive, which dlt reads as UTC).
type isoParts struct {
	year, month, day           int
	hour, minute, second, usec int
	offset                     int // minutes
}

// micros is the instant as microseconds since the Unix epoch.
func (p isoParts) micros() int64 {
	days := int64(DaysFromCivil(p.year, p.month, p.day))
	sec := days*86400 + int64(p.hour*3600+p.minute*60+p.second) - int64(p.offset)*60
	return sec*1_000_000 + int64(p.usec)
}

// DaysFromCivil is the number of days from 1970-01-01 to y-m-d in the
// proleptic Gregorian calendar (Howard Hinnant's days_from_civil).
func DaysFromCivil(y, m, d int) int {
	if m <= 2 {
		y--
	}
	era := y
	if era < 0 {
		era -= 399
	}
	era /= 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// isoKind is what dlt's parse_iso_like_datetime makes of a string.
type isoKind uint8

const (
	kindNone     isoKind = iota // it raises ValueError
	kindTime                    // a time of day
	kindDate                    // a date
	kindDatetime                // a date and time: a timestamp
)

// parseISOTimestamp reads s as dlt does when it detects timestamps, and
// reports whether dlt makes a datetime of it.
func parseISOTimestamp(s string) (isoParts, bool) {
	// Every form starts with a four-digit year: most strings stop here.
	if len(s) < 7 || !isDigit(s[0]) || !isDigit(s[1]) || !isDigit(s[2]) || !isDigit(s[3]) {
		return isoParts{}, false
	}
	p, k := parseISOLike(s)
	return p, k == kindDatetime
}

// parseISOLike is dlt.common.time.parse_iso_like_datetime: pendulum's ISO
// 8601 parser, and where that refuses the string (only then: a date or a
// time it parses is the answer), pendulum's common pattern. A date has no
// time of day and no offset.
func parseISOLike(s string) (isoParts, isoKind) {
	if p, k := pendulumISO(s); k != kindNone {
		return p, k
	}
	return pendulumCommon(s)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// ParseISOTimestamp reads s as dlt reads a string it detects as a
// timestamp (IsISOTimestamp), as an instant (naive text is UTC).
func ParseISOTimestamp(s string) (time.Time, bool) {
	p, ok := parseISOTimestamp(s)
	if !ok {
		return time.Time{}, false
	}
	return time.UnixMicro(p.micros()).UTC(), true
}

// canonicalTimestamp is s, detected as a timestamp, as the job files'
// readers parse it: s itself when in the extended form, else its fields
// in that form (extended).
func canonicalTimestamp(s string) string {
	if extendedForm(s) {
		return s
	}
	p, ok := parseISOTimestamp(s)
	if !ok {
		return s
	}
	return p.extended()
}

// extended writes p as YYYY-MM-DDTHH:MM:SS[.ffffff]±HH:MM, the offset
// kept, so that the date stays in the years dlt reads.
func (p isoParts) extended() string {
	b := make([]byte, 0, 32)
	b = appendInt(b, p.year, 4)
	b = append(b, '-')
	b = appendInt(b, p.month, 2)
	b = append(b, '-')
	b = appendInt(b, p.day, 2)
	b = append(b, 'T')
	b = appendInt(b, p.hour, 2)
	b = append(b, ':')
	b = appendInt(b, p.minute, 2)
	b = append(b, ':')
	b = appendInt(b, p.second, 2)
	if p.usec != 0 {
		b = append(b, '.')
		b = appendInt(b, p.usec, 6)
	}
	off := p.offset
	if off < 0 {
		b, off = append(b, '-'), -off
	} else {
		b = append(b, '+')
	}
	b = appendInt(b, off/60, 2)
	b = append(b, ':')
	b = appendInt(b, off%60, 2)
	return string(b)
}

// appendInt appends n with at least width digits.
func appendInt(b []byte, n, width int) []byte {
	var d [8]byte
	i := len(d)
	for n > 0 || i > len(d)-width {
		i--
		d[i] = byte('0' + n%10)
		n /= 10
	}
	return append(b, d[i:]...)
}

// extendedForm reports whether s, which dlt detects as a timestamp, is in
// the form the job files' readers parse (isoTimestampShape in the
// tests) as dlt reads it: YYYY-MM-DD, T or a space, HH:MM, optional
// seconds with up to six fraction digits after a point, and no zone, Z or
// ±HH[[:]MM]. Since s parsed, a few
// bytes tell (this runs for every timestamp value; the shape's full
// match took as long as detecting).
func extendedForm(s string) bool {
	if len(s) < 16 || s[4] != '-' || s[7] != '-' || s[10] != 'T' && s[10] != ' ' || s[13] != ':' {
		return false // an hour alone, basic, week or ordinal dates, the common pattern
	}
	i := 16
	if i < len(s) && s[i] == ':' {
		i += 3
		if i < len(s) && (s[i] == '.' || s[i] == ',') {
			if s[i] == ',' {
				return false
			}
			n := 0
			for i+1+n < len(s) && isDigit(s[i+1+n]) {
				n++
			}
			if n > 6 {
				// dlt keeps microseconds, cut, not rounded as PostgreSQL
				// would read more digits.
				return false
			}
			i += 1 + n
		}
	}
	// The zone: none, Z, or an offset; "+HH:" (no minutes) is not read.
	return s[len(s)-1] != ':' || i == len(s)
}

// PyISOFormat is Python's datetime.isoformat(sep) of t in UTC, as dlt
// writes a datetime (microseconds only when there are any, "+00:00"):
// sep 'T' is its typed JSON's text, ' ' what str() and str.format give.
func PyISOFormat(t time.Time, sep byte) string {
	t = t.UTC()
	b := make([]byte, 0, 32)
	b = t.AppendFormat(b, "2006-01-02")
	b = append(b, sep)
	b = t.AppendFormat(b, "15:04:05")
	if us := t.Nanosecond() / 1000; us != 0 {
		b = fmt.Appendf(b, ".%06d", us)
	}
	return string(append(b, "+00:00"...))
}
