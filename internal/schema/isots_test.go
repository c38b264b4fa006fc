package schema

import (
	"math/rand/v2"
	"regexp"
	"testing"
)

// The hand matcher accepts exactly the language of the regexp it replaced.
func TestISOTimestampShapeMatchesRegexp(t *testing.T) {
	re := regexp.MustCompile(`^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|z|[+-]\d{2}(:?\d{2})?)?$`)
	corpus := []string{
		"2024-01-02T03:04", "2024-01-02 03:04", "2024-01-02T03:04:05", "2024-01-02T03:04:05.1", "2024-01-02T03:04:05.123456789",
		"2024-01-02T03:04:05.1234567890", "2024-01-02T03:04:05.", "2024-01-02T03:04Z", "2024-01-02T03:04:05z", "2024-01-02T03:04:05+01",
		"2024-01-02T03:04:05+0130", "2024-01-02T03:04:05+01:30", "2024-01-02T03:04:05+01:", "2024-01-02T03:04:05+01:3", "2024-01-02T03:04:05-0",
		"2024-01-02T03:04:5", "2024-01-02T03:04:05ZZ", "2024-01-02", "2024-01-02T3:04", "x024-01-02T03:04", "2024-01-02T03:04:05.5Z",
		"2024-01-02T03:04.5", "2024-01-02T03:04+01:30", "2024-01-02T03:04:05+01:300", "2024-01-02T03:04:05 ", "２024-01-02T03:04",
	}
	for _, s := range corpus {
		if got, want := isoTimestampShape(s), re.MatchString(s); got != want {
			t.Errorf("%q: %v, regexp %v", s, got, want)
		}
	}
	// Random strings over the alphabet that matters, around the lengths
	// that matter, mutated from valid ones.
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("0123456789-T :.Zz+x")
	for range 200000 {
		b := []byte(corpus[r.IntN(len(corpus))])
		for range r.IntN(4) {
			switch r.IntN(3) {
			case 0:
				b[r.IntN(len(b))] = alphabet[r.IntN(len(alphabet))]
			case 1:
				b = append(b, alphabet[r.IntN(len(alphabet))])
			case 2:
				if len(b) > 1 {
					b = b[:len(b)-1]
				}
			}
		}
		s := string(b)
		if got, want := isoTimestampShape(s), re.MatchString(s); got != want {
			t.Fatalf("%q: %v, regexp %v", s, got, want)
		}
	}
}

// What dlt 1.31.0's is_iso_timestamp answers for text of the ISO shape
// that its parser refuses (or takes): a timestamp the engine detects and
// dlt does not is stored differently, and one whose day the month lacks
// was written as NULL by the Parquet job files.
func TestISOTimestampAsDltDetects(t *testing.T) {
	for s, want := range map[string]bool{
		"2024-02-30T00:00:00Z": false, "2023-02-29T10:00:00Z": false, "2024-02-29T10:00:00Z": true,
		"2024-04-31T10:00:00": false, "2024-01-01T10:00:60Z": false, "2024-01-01T10:00Z": true,
		"2024-01-01T24:00:00": false, "2024-01-01T10:00:00+25:00": false, "2024-01-01T10:00:00+24:00": true,
		"2024-01-01T10:00:00+24:01": false, "2024-01-01T10:00:00-24:00": true, "2024-01-01T10:00:00+23:59": true,
		"2024-01-01T10:00:00z": false, "2024-01-01T10:00:00+0530": true, "2024-01-01T10:00:00+05": true,
		"0000-01-01T10:00:00": false, "0001-01-01T10:00:00": true, "2024-01-01T10:00:00+05:60": true,
		"1900-02-29T10:00:00": false, "2000-02-29T10:00:00": true,
	} {
		if got := IsISOTimestamp(s); got != want {
			t.Errorf("%q: %v, dlt %v", s, got, want)
		}
	}
}

// The forms dlt 1.31.0 (pendulum 3) detects beyond the extended one, with
// the instant it reads (microseconds since the epoch), and some it
// refuses; TestTimestampsMatchDlt (internal/dltcompat) holds
// thousands more to the live dlt.
func TestISOTimestampForms(t *testing.T) {
	const at10 = 1704103200000000 // 2024-01-01T10:00:00Z
	for s, want := range map[string]int64{
		"2024-01-01T10Z": at10, "2024-01-01 10": at10, "2024-01-01T10+01:00": at10 - 3600e6,
		"2024-01-01T10:00:00,5Z": at10 + 500000, "2024-01-01T10:00:00.123456789012345Z": at10 + 123456,
		"20240101T100000Z": at10, "20240101T1000": at10, "20240101T10:00Z": at10, "20240101 100000": at10,
		"2024-W01-1T10:00:00Z": at10, "2024-W01T10:00Z": at10, "2024W011T10": at10, "2024-001T10:00Z": at10, "2024001T10": at10,
		"2024/01/15 10:00:00": 1705312800000000, "2024:01:01 10:00": at10, "2024 10:00": at10, "20241:0": 1704070800000000,
		"2024/01/01 10:00|5": at10 + 500000, "2024-01T10:00": at10, "2024-01-01T10:00:00+01:": at10 - 3600e6,
		"2020-W53-7T00:00":    1609632000000000, // week 53 of a long year ends in January
		"2024-01-01T10:00:00": at10,
	} {
		p, ok := parseISOTimestamp(s)
		if !ok || p.micros() != want {
			t.Errorf("%q: %v %d µs, dlt %d", s, ok, p.micros(), want)
		}
		if !IsISOTimestamp(s) {
			t.Errorf("%q: not detected", s)
		}
	}
	for _, s := range []string{
		"2024-01-01T1000Z", "20240101T10:00:00Z", "2024-01-01T10:00,5Z", "2024-01-01T10.5Z", "2024-01-01t10:00Z",
		"2024-01-01T10:00:00 Z", "2024-01-01T10:00:00+0", "2024-01-01T10:00:00.Z", "2024-W54-1T10:00", "2023-W53-1T10:00",
		"2023-366T10", "2024-367T10", "2024/01/15T10:00:00", "2024/01/15 10:", "2024/01/15 10:00:00.1234567890",
		"2024-01-01", "20240101", "2024", "10:00", "202410:00", "2024-01-01T10:00/2024-01-02T10:00", "2024-01-01T10:00:00+24:01",
		"2024-01-01T10:00:00-24:01", "0000-W01-1T10:00", "9999-W52-7T24:00",
	} {
		if IsISOTimestamp(s) {
			t.Errorf("%q: detected, dlt keeps it as text", s)
		}
	}
}

// FuzzISOTimestamp: detection never panics, and what it detects is
// written in the extended form the job files' readers parse (the string
// itself when already in it), naming the same instant.
func FuzzISOTimestamp(f *testing.F) {
	for _, s := range []string{
		"2024-01-01T10Z", "20240101T100000.5Z", "2024-W01-1T10:00", "2024-001T10", "2024/01/15 9:05:07|5", "2024 1:5",
		"2024-01-01T10:00:00.1234567890+01:", "2024-12-31T23:59:59-23:59", "0001-01-01T00:00+01:00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, ok := parseISOTimestamp(s)
		if ok != IsISOTimestamp(s) {
			t.Fatalf("%q: parse %v, IsISOTimestamp %v", s, ok, !ok)
		}
		if !ok {
			return
		}
		if extendedForm(s) && !isoTimestampShape(s) {
			t.Fatalf("%q: extendedForm, not isoTimestampShape", s)
		}
		c := canonicalTimestamp(s)
		if !isoTimestampShape(c) {
			t.Fatalf("%q is written as %q, not the extended form", s, c)
		}
		if q, ok := parseISOTimestamp(c); !ok || q.micros() != p.micros() {
			t.Fatalf("%q (%d µs) is written as %q (%v, %d µs)", s, p.micros(), c, ok, q.micros())
		}
	})
}

// isoTimestampShape is the extended form the job files' readers parse
// (and dlt's detection once was), the language of
//
//	^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|z|[+-]\d{2}(:?\d{2})?)?$
//
// (a date with a time of day, optional seconds, fraction and zone),
// matched by hand: extendedForm must agree with it on detected strings.
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
