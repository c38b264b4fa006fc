package dltcompat

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlthub/dlthub/internal/jobfile"
	"github.com/dlthub/dlthub/internal/python/pythontest"
	"github.com/dlthub/dlthub/internal/schema"
)

// timestampStrings are strings around every form dlt's timestamp
// detection (pendulum's ISO 8601 parser, then its common pattern) takes
// or refuses, then generated ones: dates, separators, times, fractions
// and zones of each form, with values in and out of range, and mutations.
func timestampStrings(n int) []string {
	out := []string{
		"2024-01-01T10Z", "2024-01-01T10", "2024-01-01 10", "2024-01-01T10:00:00,5Z", "2024-01-01T10:00:00.1234567890Z",
		"20240101T100000Z", "20240101T10:00Z", "20240101T10:00:00Z", "2024-01-01T1000Z", "2024-W01-1T10:00:00Z",
		"2024-W53-1T10:00", "2020-W53-7T10:00", "2024W011T10", "2024-001T10:00Z", "2024-366T10", "2023-366T10", "2024001T10:00Z",
		"2024-01T10:00", "2024/01/15 10:00:00", "2024:01:15 10:00", "2024/0115 9:5", "2024 1:5", "20241:0", "202410:00",
		"2024/01/15 10:", "2024/01/15 10:00|5", "2024/01/15 10:00:00.1234567891", "2024-01-01T10:00:00+01:", "2024-01-01T10:00:00+23:59",
		"2024-01-01T10:00:00+23:60", "2024-01-01T10:00:00-24:00", "2024-01-01T10:00:00-24:01", "2024-01-01t10:00Z",
		"2024-01-01T24:00", "0000-01-01T00:00", "9999-12-31T23:59:59.999999-01:00", "0001-W01-1T00:00", "9999-W52-7T00:00",
		"2024-01-01T10:00/2024-01-02T10:00", "2024-01-01", "20240101", "2024", "10:00", "T10:00", "P1D", "", "٢٠٢٤-01-01T10:00",
		// Numbers, which dlt coerces as seconds since the epoch.
		"1700000000", " 1e9 ", "1_700_000_000", "1__0", "_1", "1_", "-62135596800", "-62135596801", "253402300799.5", "253402300800",
		"nan", "inf", "-Infinity", "1e400", "0x10", "+.5", "5.", ".", "1e", "20241350", "\t42\n", "4 2",
		// Times of day, which dlt coerces into a time column.
		"10:5", "10:05", "9:5:3", " 10:00", "10:00:00.1234567", "10:00+02:00", "01:00:00-03:30", "10:00Z", "T10:00", "T1000", "T10:00:00",
		"1000", "24:00", "23:59:60", "10:00:00,5", "10:00|5", "10:", "10:00+24:00", "23:30-01:00",
	}
	rng := rand.New(rand.NewPCG(7, 11))
	// num is a width-digit number, mostly from lo to hi, sometimes
	// anything the width holds.
	num := func(width, lo, hi int) string {
		if rng.IntN(8) == 0 {
			return fmt.Sprintf("%0*d", width, rng.IntN([]int{1, 10, 100, 1000, 10000}[width]))
		}
		return fmt.Sprintf("%0*d", width, lo+rng.IntN(hi-lo+1))
	}
	digits := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteByte(byte('0' + rng.IntN(10)))
		}
		return b.String()
	}
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	for len(out) < n {
		y := pick(num(4, 1, 9999), "2024", "2020", "2026", "0000", "0001", "9999")
		var date string
		switch rng.IntN(8) {
		case 0, 1:
			date = y + "-" + num(2, 1, 12) + "-" + num(2, 1, 28)
		case 2:
			date = y + num(2, 1, 12) + num(2, 1, 31)
		case 3:
			date = y + pick("-W", "W") + num(2, 1, 53) + pick("", "-"+num(1, 1, 7), num(1, 1, 7))
		case 4:
			date = y + pick("-", "") + num(3, 1, 366)
		case 5:
			date = y + pick("/", ":", "") + num(2, 1, 12) + pick("/", ":", "") + num(2, 1, 31)
		case 6:
			date = y + pick("-"+num(2, 1, 12), "")
		default:
			date = y
		}
		sep := pick("T", "T", " ", "", "t")
		frac := pick("", "", "."+digits(1+rng.IntN(12)), ","+digits(1+rng.IntN(4)), "|"+digits(2), ".")
		var clock string
		switch rng.IntN(7) {
		case 0:
			clock = num(2, 0, 23)
		case 1:
			clock = num(2, 0, 23) + ":" + num(2, 0, 59)
		case 2:
			clock = num(2, 0, 23) + ":" + num(2, 0, 59) + ":" + num(2, 0, 59) + frac
		case 3:
			clock = num(2, 0, 23) + num(2, 0, 59)
		case 4:
			clock = num(2, 0, 23) + num(2, 0, 59) + num(2, 0, 59) + frac
		case 5:
			clock = num(1, 0, 9) + ":" + num(1, 0, 9) + pick("", ":"+num(1, 0, 9)) + frac
		default:
			clock = ""
		}
		if rng.IntN(10) == 0 {
			// A time of day, with or without zone.
			clock := num(2, 0, 23) + ":" + num(2, 0, 59) + pick("", ":"+num(2, 0, 59))
			switch rng.IntN(4) {
			case 0: // pendulum's common pattern: short fields, no zone
				clock = pick("", " ") + num(1+rng.IntN(2), 0, 23) + ":" + num(1+rng.IntN(2), 0, 59) + pick("", ":"+num(1+rng.IntN(2), 0, 59)) + pick("", "."+digits(1+rng.IntN(9)), "|"+digits(2))
			case 1: // after the designator, or basic
				clock = "T" + num(2, 0, 23) + pick(":"+num(2, 0, 59), num(2, 0, 59), num(2, 0, 59)+num(2, 0, 59))
			}
			out = append(out, clock+pick("", "", "."+digits(1+rng.IntN(8)), ","+digits(2))+pick("", "", "Z", "+"+num(2, 0, 14)+":"+num(2, 0, 59), "-"+num(2, 0, 12)))
			continue
		}
		if rng.IntN(10) == 0 {
			// A number: an epoch, a float, with underscores or spaces.
			out = append(out, pick("", " ", "+", "-")+num(4, 0, 9999)+pick("", num(4, 0, 9999), "_"+digits(3))+
				pick("", "."+digits(1+rng.IntN(6)), "e"+num(1, 0, 9), "E-2")+pick("", " ", "\n"))
			continue
		}
		zone := pick("", "", "Z", "Z", "z", "+"+num(2, 0, 14), "-"+num(2, 0, 14)+":"+num(2, 0, 59), "+"+num(2, 0, 14)+num(2, 0, 59), "+"+num(1, 0, 9), "+"+num(2, 0, 24)+":", " UTC")
		s := date + sep + clock + zone
		if rng.IntN(2) == 0 {
			// A form dlt takes, its parts consistent.
			switch rng.IntN(3) {
			case 0: // extended
				s = y + "-" + num(2, 1, 12) + "-" + num(2, 1, 28) + pick("T", " ") + num(2, 0, 23) +
					pick("", ":"+num(2, 0, 59), ":"+num(2, 0, 59)+":"+num(2, 0, 59)+pick("", "."+digits(1+rng.IntN(12)), ","+digits(1+rng.IntN(9))))
			case 1: // basic
				s = y + pick(num(2, 1, 12)+num(2, 1, 28), "W"+num(2, 1, 52)+num(1, 1, 7), num(3, 1, 365)) + pick("T", " ") + num(2, 0, 23) +
					pick("", num(2, 0, 59), num(2, 0, 59)+num(2, 0, 59)+pick("", "."+digits(1+rng.IntN(12))), ":"+num(2, 0, 59))
			default: // pendulum's common pattern
				s = y + pick("", "/"+num(2, 1, 12)+"/"+num(2, 1, 28), ":"+num(2, 1, 12)+":"+num(2, 1, 28), num(2, 1, 12)+num(2, 1, 28)) +
					pick("", " ") + num(1+rng.IntN(2), 0, 23) + ":" + num(1+rng.IntN(2), 0, 59) + pick("", ":"+num(2, 0, 59)) + pick("", "."+digits(1+rng.IntN(9)), "|"+digits(3))
			}
			zone = pick("", "Z", "+"+num(2, 0, 14)+":"+num(2, 0, 59), "-"+num(2, 0, 14))
			if rng.IntN(3) == 0 {
				s += zone
			}
		}
		if rng.IntN(6) == 0 && len(s) > 0 {
			// A mutation: a character dropped, doubled or replaced.
			i := rng.IntN(len(s))
			switch rng.IntN(3) {
			case 0:
				s = s[:i] + s[i+1:]
			case 1:
				s = s[:i] + s[i:i+1] + s[i:]
			default:
				s = s[:i] + pick("-", ":", "T", " ", "/", "0", "9", ".", "W") + s[i+1:]
			}
		}
		out = append(out, s)
	}
	return out
}

// TestTimestampsMatchDlt holds the engine's timestamp detection
// (schema.IsISOTimestamp, which makes a column a timestamp), the instant
// it stores (what the Parquet job files hold, and what incremental cursors
// compare), and its coercion of strings into columns declared timestamp
// or date, to the pinned dlt's, string by string. The one difference
// allowed is deliberate (dlt-differences.md): a string dlt detects and
// then cannot convert (an offset of ±24:00) is loaded as the instant it
// names.
func TestTimestampsMatchDlt(t *testing.T) {
	py := pythontest.Find(t)
	strs := timestampStrings(4000)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "strings.json"), filepath.Join(dir, "dlt.json")
	b, err := json.Marshal(strs)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(in, b, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py.Python, "timestamps_driver.py", in, out)
	cmd.Env = append(os.Environ(), "HOME="+dir)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("dlt timestamps driver: %v\n%s", err, msg)
	}
	if b, err = os.ReadFile(out); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Results []struct {
			Detected bool    `json:"detected"`
			US       *int64  `json:"us"`
			Error    string  `json:"error"`
			TS       *int64  `json:"ts"`
			TSError  string  `json:"ts_error"`
			Date     *string `json:"date"`
			DateErr  string  `json:"date_error"`
			Time     *string `json:"time"`
			TimeErr  string  `json:"time_error"`
		} `json:"results"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Results) != len(strs) {
		t.Fatalf("dlt answered %d strings of %d", len(got.Results), len(strs))
	}
	detected, toTS, toDate, toTime, bad := 0, 0, 0, 0, 0
	differ := func(format string, args ...any) {
		t.Helper()
		t.Errorf(format, args...)
		if bad++; bad == 20 {
			t.Fatal("too many differences")
		}
	}
	for i, s := range strs {
		d := got.Results[i]
		eng := schema.IsISOTimestamp(s)
		if d.Detected {
			detected++
		}
		if d.TS != nil {
			toTS++
		}
		if d.Date != nil {
			toDate++
		}
		if d.Time != nil {
			toTime++
		}
		if d.Detected && d.Error != "" {
			// An offset of ±24:00: dlt detects a timestamp and then
			// fails the run (or makes a variant) converting it; the
			// engine's instant is deliberate (dlt-differences.md).
			continue
		}
		switch {
		case eng != d.Detected:
			differ("%q: dlt detects a timestamp: %v, the engine: %v", s, d.Detected, eng)
		case eng:
			us, ok := jobfile.ParseTimestamp(schema.Canonical(s, schema.Timestamp).(string))
			tm, ok2 := schema.ParseISOTimestamp(s)
			if !ok || !ok2 || us != *d.US || tm.UnixMicro() != *d.US {
				differ("%q: dlt reads %d µs, the engine's job files %d (%v), its cursors %d (%v)", s, *d.US, us, ok, tm.UnixMicro(), ok2)
			}
		}
		// Into a column declared timestamp or date, as emit coerces.
		typ, _ := schema.InferType(s)
		if coerces(d.TSError) {
			v, ok := schema.Coerce(s, typ, schema.Timestamp)
			var us int64
			if ok {
				us, ok = jobfile.ParseTimestamp(v.(string))
			}
			if ok != (d.TS != nil) || ok && us != *d.TS {
				differ("%q into a timestamp column: dlt %v (%s), the engine %v (%v)", s, deref(d.TS), d.TSError, us, ok)
			}
		}
		if coerces(d.TimeErr) {
			v, ok := schema.Coerce(s, typ, schema.Time)
			var got, want int64
			if ok {
				got, ok = jobfile.ParseTime(v.(string))
			}
			if d.Time != nil {
				want, _ = jobfile.ParseTime(*d.Time)
			}
			if ok != (d.Time != nil) || ok && got != want {
				differ("%q into a time column: dlt %v (%s), the engine %v (%v)", s, deref(d.Time), d.TimeErr, v, ok)
			}
		}
		if coerces(d.DateErr) {
			v, ok := schema.Coerce(s, typ, schema.Date)
			if ok != (d.Date != nil) || ok && v != *d.Date {
				differ("%q into a date column: dlt %v (%s), the engine %v (%v)", s, deref(d.Date), d.DateErr, v, ok)
			}
		}
	}
	t.Logf("dlt detects %d of %d strings as timestamps, coerces %d into a timestamp column, %d into a date column, %d into a time column", detected, len(strs), toTS, toDate, toTime)
	// The corpus must reach both answers in numbers, or it tests little.
	for _, n := range []int{detected, toTS, toDate, toTime * 3} {
		if n < len(strs)/10 || n > len(strs)*9/10 {
			t.Errorf("dlt takes %d of %d strings: the generator misses one side", n, len(strs))
		}
	}
}

// coerces reports whether dlt's normalizer ends a coercion that raised
// err (or none) with a value or a variant column: ValueError and
// SyntaxError make the variant; anything else fails dlt's run (an epoch
// past Python's years), where the engine's variant is deliberate.
func coerces(err string) bool {
	return err == "" || err == "ValueError" || err == "ParserError" || err == "SyntaxError"
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}
