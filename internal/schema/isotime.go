package schema

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// dlt detects a timestamp in a string when dlt.common.time's
// parse_iso_like_datetime makes a datetime of it: pendulum's ISO 8601
// parser (pendulum 3's Rust parse_iso8601), or, when that refuses the
// string, pendulum's "common" pattern. Both accept much more than the
// extended form most data has: basic dates (20240101T1000Z), week and
// ordinal dates (2024-W01-1T10:00, 2024-001T10:00), an hour alone
// (2024-01-01T10Z), comma fractions, fractions of any length, and
// 2024/01/15 10:00 or "2024 1:5". A column dlt makes a timestamp the
// engine must too (the table layout is dlt's), so this file ports both
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

// isoScan is pendulum's Rust Parser over bytes: its tests are all of ASCII
// characters, which a byte of a multi-byte character never equals.
type isoScan struct {
	s string
	i int
}

func (p *isoScan) end() bool { return p.i >= len(p.s) }

// cur is the current byte, 0 at the end (as the Rust parser's '\0').
func (p *isoScan) cur() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

// integer is parse_integer: exactly n digits.
func (p *isoScan) integer(n int) (int, bool) {
	v := 0
	for range n {
		if p.end() || !isDigit(p.s[p.i]) {
			return 0, false
		}
		v = v*10 + int(p.s[p.i]-'0')
		p.i++
	}
	return v, true
}

// pendulumISO is pendulum's parse_iso8601 for what is not a duration or
// an interval: a date, a time of day or both, or kindNone where pendulum
// raises ValueError (Python's date and datetime refusing a field too).
func pendulumISO(s string) (isoParts, isoKind) {
	p := &isoScan{s: s}
	var d isoParts
	d.month, d.day = 1, 1
	fail := isoParts{}
	switch p.cur() {
	case 'P':
		// A duration: not a date or a time, and dlt's coercions fail.
		return fail, kindNone
	case 'T':
		// A time of day after its designator.
		return isoClock(p, &d, false, false)
	}
	y, ok := p.integer(2)
	if !ok {
		return fail, kindNone
	}
	if p.cur() == ':' {
		// A time of day in extended format: those two digits were its
		// hour.
		d.hour = y
		return isoClock(p, &d, true, true)
	}
	y2, ok := p.integer(2)
	if !ok {
		return fail, kindNone
	}
	d.year = y*100 + y2
	extended := false
	switch p.cur() {
	case '-':
		p.i++
		extended = true
		if p.cur() == 'W' {
			p.i++
			week, ok := p.integer(2)
			if !ok {
				return fail, kindNone
			}
			wday := 1
			if !p.end() && p.cur() != ' ' && p.cur() != 'T' {
				if p.cur() != '-' {
					return fail, kindNone
				}
				p.i++
				if wday, ok = p.integer(1); !ok {
					return fail, kindNone
				}
			}
			if d.year, d.month, d.day, ok = isoWeekDate(d.year, week, wday); !ok {
				return fail, kindNone
			}
		} else {
			m, ok := p.integer(2)
			if !ok {
				return fail, kindNone
			}
			d.month = m
			if !p.end() && p.cur() != ' ' && p.cur() != 'T' {
				if p.cur() == '-' {
					p.i++
					if d.day, ok = p.integer(2); !ok {
						return fail, kindNone
					}
				} else {
					o, ok := p.integer(1)
					if !ok {
						return fail, kindNone
					}
					if d.year, d.month, d.day, ok = ordinalDate(d.year, m*10+o, false); !ok {
						return fail, kindNone
					}
				}
			} else {
				d.day = 1
			}
		}
	case 'W':
		p.i++
		week, ok := p.integer(2)
		if !ok {
			return fail, kindNone
		}
		wday := 1
		if !p.end() && p.cur() != ' ' && p.cur() != 'T' {
			if wday, ok = p.integer(1); !ok {
				return fail, kindNone
			}
		}
		if d.year, d.month, d.day, ok = isoWeekDate(d.year, week, wday); !ok {
			return fail, kindNone
		}
	default:
		m, ok := p.integer(2)
		if !ok {
			return fail, kindNone
		}
		o, ok := p.integer(1)
		if !ok {
			return fail, kindNone
		}
		if p.end() || p.cur() == ' ' || p.cur() == 'T' {
			if d.year, d.month, d.day, ok = ordinalDate(d.year, m*10+o, false); !ok {
				return fail, kindNone
			}
		} else {
			d.month = m
			last, ok := p.integer(1)
			if !ok {
				return fail, kindNone
			}
			d.day = o*10 + last
		}
	}
	hasTime := false
	if !p.end() {
		hasTime = true
		if !p.isoTime(&d, extended, false) {
			return fail, kindNone
		}
	}
	if !p.end() {
		// Anything after the value, an interval's "/" included: pendulum
		// refuses it or returns an interval ("Not yet implemented").
		return fail, kindNone
	}
	// Python's date and datetime check the fields.
	if d.year < 1 || d.year > 9999 || d.month < 1 || d.month > 12 || d.day < 1 || d.day > daysInMonth(d.year, d.month) {
		return fail, kindNone
	}
	if !hasTime {
		return d, kindDate
	}
	if d.hour > 23 || d.minute > 59 || d.second > 59 {
		return fail, kindNone
	}
	return d, kindDatetime
}

// isoClock is a time of day alone (pendulum's parse_time with no date):
// it must end the string, and Python's time checks its fields.
func isoClock(p *isoScan, d *isoParts, extended, skipHour bool) (isoParts, isoKind) {
	if !p.isoTime(d, extended, skipHour) || !p.end() || d.hour > 23 || d.minute > 59 || d.second > 59 {
		return isoParts{}, kindNone
	}
	d.year, d.month, d.day = 0, 0, 0
	return *d, kindTime
}

// isoTime is parse_time: the separator and the hour (unless skipHour: a
// time alone whose hour was read), optional minute, second and
// fraction, and an optional zone.
func (p *isoScan) isoTime(d *isoParts, extended, skipHour bool) bool {
	if !skipHour {
		if p.cur() != 'T' && p.cur() != ' ' {
			return false
		}
		p.i++
		var ok bool
		if d.hour, ok = p.integer(2); !ok {
			return false
		}
	}
	var ok bool
	zone := func(c byte) bool { return c == 'Z' || c == '+' || c == '-' }
	if !p.end() && !zone(p.cur()) {
		if p.cur() == ':' {
			p.i++
			if d.minute, ok = p.integer(2); !ok {
				return false
			}
			if !p.end() && !zone(p.cur()) {
				if p.cur() != ':' {
					return false
				}
				p.i++
				if d.second, ok = p.integer(2); !ok {
					return false
				}
				if !p.fraction(d) {
					return false
				}
				if !extended {
					// A basic date with an extended time with seconds.
					return false
				}
			}
		} else {
			if d.minute, ok = p.integer(2); !ok {
				return false
			}
			if !p.end() && !zone(p.cur()) {
				if d.second, ok = p.integer(2); !ok {
					return false
				}
				if !p.fraction(d) {
					return false
				}
			}
			if extended {
				// An extended date with a basic time.
				return false
			}
		}
	}
	switch p.cur() {
	case 'Z':
		p.i++
	case '+', '-':
		sign := 1
		if p.cur() == '-' {
			sign = -1
		}
		p.i++
		h, ok := p.integer(2)
		if !ok {
			return false
		}
		if p.cur() == ':' {
			p.i++
		}
		m := 0
		if !p.end() {
			if m, ok = p.integer(2); !ok {
				return false
			}
		}
		off := sign * (h*60 + m)
		if off > 24*60 {
			return false
		}
		if off < -24*60 {
			// pendulum takes it and dlt then fails the run converting
			// it; the engine keeps such text as text.
			return false
		}
		d.offset = off
	}
	return true
}

// fraction reads an optional fraction of a second after '.' or ',': at
// least one digit, the first six kept, the rest dropped.
func (p *isoScan) fraction(d *isoParts) bool {
	if p.cur() != '.' && p.cur() != ',' {
		return true
	}
	p.i++
	n := 0
	for n < 6 && isDigit(p.cur()) {
		d.usec = d.usec*10 + int(p.cur()-'0')
		p.i++
		n++
	}
	if n == 0 {
		return false
	}
	for isDigit(p.cur()) {
		p.i++
	}
	for ; n < 6; n++ {
		d.usec *= 10
	}
	return true
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysInYear(y int) int {
	if isLeap(y) {
		return 366
	}
	return 365
}

// ordinalDate is pendulum's ordinal_to_ymd: the day of the year, which
// may spill into the year before or after for week dates.
func ordinalDate(year, ord int, spill bool) (y, m, d int, ok bool) {
	y = year
	if ord < 1 {
		if !spill {
			return 0, 0, 0, false
		}
		ord += daysInYear(year - 1)
		y--
	}
	if ord > daysInYear(y) {
		if !spill {
			return 0, 0, 0, false
		}
		ord -= daysInYear(y)
		y++
	}
	// pendulum's MONTHS_OFFSETS: the days before each month.
	offsets := [2][14]int{
		{-1, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365},
		{-1, 0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335, 366},
	}
	leap := 0
	if isLeap(y) {
		leap = 1
	}
	for i := 1; i < 14; i++ {
		if ord <= offsets[leap][i] {
			return y, i - 1, ord - offsets[leap][i-1], true
		}
	}
	return 0, 0, 0, false
}

// isoWeekDate is pendulum's iso_to_ymd.
func isoWeekDate(year, week, wday int) (y, m, d int, ok bool) {
	if week > 53 || week > 52 && !isLongYear(year) || wday > 7 {
		return 0, 0, 0, false
	}
	return ordinalDate(year, week*7+wday-(weekDay(year, 1, 4)+3), true)
}

func pendulumP(y int) int { return y + y/4 - y/100 + y/400 }

func isLongYear(y int) bool { return pendulumP(y)%7 == 4 || pendulumP(y-1)%7 == 3 }

// weekDay is pendulum's week_day: 1 (Monday) to 7 (Sunday).
func weekDay(year, month, day int) int {
	table := [12]int{0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4}
	y := year
	if month < 3 {
		y--
	}
	w := (pendulumP(y) + table[month-1] + day) % 7
	if w == 0 {
		return 7
	}
	if w < 0 {
		return -w
	}
	return w
}

// pendulumCommon is pendulum's _parse_common with dlt's options: the
// pattern
//
//	(YYYY ([/:]?MM [/:]?DD)?)? ( ?H{1,2}:M{1,2}?(:S{1,2})?([.|,]F{1,9})?)?
//
// matched whole, as Python's re tries it (the first match it finds sets
// the fields, even when a later one would make a valid datetime). Only a
// date with a time is a timestamp; a missing minute fails in Python.
func pendulumCommon(s string) (isoParts, isoKind) {
	if len(s) < 4 || !isDigit(s[0]) || !isDigit(s[1]) || !isDigit(s[2]) || !isDigit(s[3]) {
		// No date (a date's four digits cannot start a time, whose hour
		// has one or two before its colon): a time of day alone, or no
		// match. Python's time() checks the fields; a missing minute
		// fails.
		t, ok := commonTime(s)
		if !ok || t.minute < 0 || t.hour > 23 || t.minute > 59 || t.second > 59 {
			return isoParts{}, kindNone
		}
		return t, kindTime
	}
	year := atoi(s[:4])
	// Date with month and day, tried first.
	if i, m, d, ok := commonMonthDay(s, 4); ok {
		if i == len(s) {
			return commonDate(year, m, d)
		}
		if t, ok := commonTime(s[i:]); ok {
			return commonDatetime(year, m, d, t)
		}
	}
	if len(s) == 4 {
		return commonDate(year, 1, 1)
	}
	// The year alone, then the time.
	if t, ok := commonTime(s[4:]); ok {
		return commonDatetime(year, 1, 1, t)
	}
	return isoParts{}, kindNone
}

// commonDate is _parse_common's date(...): Python checks the fields.
func commonDate(year, month, day int) (isoParts, isoKind) {
	if year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) {
		return isoParts{}, kindNone
	}
	return isoParts{year: year, month: month, day: day}, kindDate
}

// commonMonthDay matches [/:]?MM[/:]?DD at s[i:].
func commonMonthDay(s string, i int) (next, month, day int, ok bool) {
	if i < len(s) && (s[i] == '/' || s[i] == ':') {
		i++
	}
	if i+2 > len(s) || !isDigit(s[i]) || !isDigit(s[i+1]) {
		return 0, 0, 0, false
	}
	month = atoi(s[i : i+2])
	i += 2
	if i < len(s) && (s[i] == '/' || s[i] == ':') {
		i++
	}
	if i+2 > len(s) || !isDigit(s[i]) || !isDigit(s[i+1]) {
		return 0, 0, 0, false
	}
	return i + 2, month, atoi(s[i : i+2]), true
}

// commonTime matches the time part, to the end of s: " ?H{1,2}:M{0,2}
// (:S{1,2})?([.|,]F{1,9})?". Each part's digits are all the digits there
// (a shorter run leaves a digit nothing else matches), so the greedy
// match is the only one. minute is -1 when missing.
func commonTime(s string) (isoParts, bool) {
	var t isoParts
	i := 0
	if i < len(s) && s[i] == ' ' {
		i++
	}
	run := func(max int) (int, int) { // value and length of the digit run at i, at most max+1 long
		n, v := 0, 0
		for i+n < len(s) && isDigit(s[i+n]) && n <= max {
			v = v*10 + int(s[i+n]-'0')
			n++
		}
		return v, n
	}
	v, n := run(2)
	if n < 1 || n > 2 {
		return t, false
	}
	t.hour, i = v, i+n
	if i >= len(s) || s[i] != ':' {
		return t, false
	}
	i++
	v, n = run(2)
	if n > 2 {
		return t, false
	}
	t.minute, i = v, i+n
	if n == 0 {
		t.minute = -1
	}
	if i < len(s) && s[i] == ':' {
		i++
		v, n = run(2)
		if n < 1 || n > 2 {
			return t, false
		}
		t.second, i = v, i+n
	}
	if i < len(s) && (s[i] == '.' || s[i] == '|' || s[i] == ',') {
		i++
		start := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == start || i-start > 9 {
			return t, false
		}
		f := s[start:i]
		if len(f) > 6 {
			f = f[:6]
		}
		t.usec = atoi(f)
		for k := len(f); k < 6; k++ {
			t.usec *= 10
		}
	}
	return t, i == len(s)
}

// commonDatetime is _parse_common's datetime(...) of a matched date and
// time: Python checks every field (a missing minute fails too).
func commonDatetime(year, month, day int, t isoParts) (isoParts, isoKind) {
	if t.minute < 0 || year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) ||
		t.hour > 23 || t.minute > 59 || t.second > 59 {
		return isoParts{}, kindNone
	}
	t.year, t.month, t.day = year, month, day
	return t, kindDatetime
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

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
