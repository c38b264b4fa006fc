package schema

// pendulum's two parsers, as dlt 1.31.0 calls them (pendulum 3.3): the
// Rust parse_iso8601 (parsing.rs, ported check by check) and the "common"
// pattern of pendulum.parsing that dlt tries when it refuses a string.
// isotime.go says what they decide; TestTimestampsMatchDlt holds them to
// the pinned dlt.

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
			if !p.weekDate(&d, true) {
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
		if !p.weekDate(&d, false) {
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

// weekDate reads Www, then an optional day (after '-' in the extended
// form), into d.
func (p *isoScan) weekDate(d *isoParts, extended bool) bool {
	p.i++ // W
	week, ok := p.integer(2)
	if !ok {
		return false
	}
	wday := 1
	if !p.end() && p.cur() != ' ' && p.cur() != 'T' {
		if extended {
			if p.cur() != '-' {
				return false
			}
			p.i++
		}
		if wday, ok = p.integer(1); !ok {
			return false
		}
	}
	d.year, d.month, d.day, ok = isoWeekDate(d.year, week, wday)
	return ok
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
