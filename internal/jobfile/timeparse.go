package jobfile

import "github.com/dlthub/dlthub/internal/schema"

// The normalizer keeps timestamps, dates and times as the text dlt
// recognised (schema.IsISOTimestamp and the date and time shapes of
// schema.Coerce), timestamps in the extended form below (schema.Canonical
// rewrites the other forms dlt detects). CSV files hand that text to
// DuckDB, which casts it; a Parquet column holds the number instead, so
// these functions read the text exactly as DuckDB's cast does, errors
// included (FuzzTimeParsers holds them to DuckDB): fractions truncated to
// microseconds, no zone read as UTC, offsets of up to 99 hours and 99
// minutes, a zone also after HH:MM (since DuckDB 2.0), days checked against
// their month, lowercase z refused.

// The range of DuckDB's timestamps, in microseconds since the epoch
// (math.MaxInt64 is infinity).
const (
	minTimestamp = -9_223_372_022_400_000_000 // 290309-12-22 BC
	maxTimestamp = 9_223_372_036_854_775_806  // 294247-01-10 04:00:54.775806
	dayMicros    = 86_400_000_000
)

// ParseTimestamp reads [-]YYYY-MM-DD[T ]HH:MM[:SS[.fraction]][Z|±HH[[:]MM]]
// as microseconds since the Unix epoch, UTC. Years may have more than four
// digits and a sign, as Go writes the years of far-off times and DuckDB
// reads them (astronomical numbering: year 0 is 1 BC).
func ParseTimestamp(s string) (int64, bool) {
	days, rest, ok := parseDay(s)
	if !ok || len(rest) < 6 || rest[0] != 'T' && rest[0] != ' ' {
		return 0, false
	}
	us, rest, ok := parseClock(rest[1:], false)
	if !ok {
		return 0, false
	}
	off, ok := parseOffset(rest)
	if !ok || days > maxTimestamp/dayMicros || days < minTimestamp/dayMicros {
		return 0, false
	}
	t := days * dayMicros
	if t > maxTimestamp-us {
		return 0, false
	}
	t += us
	if t < minTimestamp {
		return 0, false
	}
	return t - off*60_000_000, true
}

// ParseDate reads YYYY-MM-DD as days since the Unix epoch.
func ParseDate(s string) (int32, bool) {
	if len(s) != 10 || s[0] == '-' {
		return 0, false
	}
	d, rest, ok := parseDay(s)
	return int32(d), ok && rest == ""
}

// parseDay reads [-]Y{4,}-MM-DD from the start of s as days since the Unix
// epoch, and returns the rest.
func parseDay(s string) (days int64, rest string, ok bool) {
	neg := len(s) > 0 && s[0] == '-'
	if neg {
		s = s[1:]
	}
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	if n < 4 || n > 9 || len(s) < n+6 || s[n] != '-' || s[n+3] != '-' {
		return 0, "", false
	}
	y, _ := digits(s[:n])
	m, ok1 := digits(s[n+1 : n+3])
	d, ok2 := digits(s[n+4 : n+6])
	if neg {
		y = -y
	}
	if !ok1 || !ok2 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, "", false
	}
	return int64(schema.DaysFromCivil(y, m, d)), s[n+6:], true
}

// ParseTime reads HH:MM[:SS[.fraction]] as microseconds since midnight;
// 24:00:00 is the end of the day, as in DuckDB.
func ParseTime(s string) (int64, bool) {
	us, rest, ok := parseClock(s, true)
	return us, ok && rest == ""
}

// parseClock reads HH:MM[:SS[.fraction]] from the start of s and returns
// the rest. endOfDay allows 24:00:00.
func parseClock(s string, endOfDay bool) (us int64, rest string, ok bool) {
	if len(s) < 5 || s[2] != ':' {
		return 0, "", false
	}
	h, ok1 := digits(s[0:2])
	mi, ok2 := digits(s[3:5])
	if !ok1 || !ok2 || mi > 59 {
		return 0, "", false
	}
	s = s[5:]
	sec, frac := 0, int64(0)
	if len(s) > 0 && s[0] == ':' {
		if len(s) < 3 {
			return 0, "", false
		}
		var ok bool
		if sec, ok = digits(s[1:3]); !ok || sec > 59 {
			return 0, "", false
		}
		s = s[3:]
		if len(s) > 0 && s[0] == '.' {
			n := 1
			for n < len(s) && s[n] >= '0' && s[n] <= '9' {
				if n <= 6 {
					frac = frac*10 + int64(s[n]-'0')
				}
				n++
			}
			if n == 1 {
				return 0, "", false
			}
			for k := n - 1; k < 6; k++ {
				frac *= 10
			}
			s = s[n:]
		}
	}
	switch {
	case h < 24:
	case h == 24 && endOfDay && mi == 0 && sec == 0 && frac == 0:
	default:
		return 0, "", false
	}
	return ((int64(h)*60+int64(mi))*60+int64(sec))*1_000_000 + frac, s, true
}

// parseOffset reads "", Z or ±HH[[:]MM] as minutes east of UTC.
func parseOffset(s string) (int64, bool) {
	switch {
	case s == "" || s == "Z":
		return 0, true
	case s[0] != '+' && s[0] != '-':
		return 0, false
	}
	sign := int64(1)
	if s[0] == '-' {
		sign = -1
	}
	s = s[1:]
	if len(s) < 2 {
		return 0, false
	}
	h, ok := digits(s[:2])
	if !ok {
		return 0, false
	}
	s = s[2:]
	m := 0
	if s != "" {
		if s[0] == ':' {
			s = s[1:]
		}
		if len(s) != 2 {
			return 0, false
		}
		if m, ok = digits(s); !ok {
			return 0, false
		}
	}
	return sign * int64(h*60+m), true
}

// digits reads a run of ASCII digits.
func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, len(s) > 0
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) { // negative years too
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
