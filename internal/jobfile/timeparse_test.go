package jobfile_test

import (
	"database/sql"
	"math"
	"regexp"
	"testing"
	"time"

	"github.com/dlthub/dlthub/internal/jobfile"
	"github.com/dlthub/dlthub/internal/schema"
)

// The shapes of text that reach date and time columns (schema.Coerce).
var (
	dateShape = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	timeShape = regexp.MustCompile(`^\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?$`)
)

// FuzzTimeParsers holds the timestamp, date and time parsers to DuckDB's
// own reading of the same text (TRY_CAST, which is what its CSV reader
// did with timestamps; for dates and times a NULL here is an error there),
// for every string the normalizer can put in such a column: text dlt
// recognises, and Go times as the normalizer writes them (RFC 3339 with
// years of any length, from numbers coerced into timestamps).
func FuzzTimeParsers(f *testing.F) {
	for _, s := range []string{
		"2024-01-01T00:00:00Z", "2024-01-01 10:00", "2024-01-01T10:00Z", "2024-01-01T10:00:00.1234567+05:30",
		"2024-01-01T10:00:00-0130", "2024-01-01T10:00:00+99:99", "2024-02-29T00:00:00+24", "2023-02-29T00:00:00",
		"0000-01-01T00:00:00z", "2024-01-01", "2024-13-01", "24:00:00", "24:00", "23:59:59.9999999", "12:60", "00:00:00.",
		"20240101T10Z", "2024-W01-1T10:00,5-01:00", "2024/01/15 9:05:07|5", "00010101T00:00+01:00",
	} {
		f.Add(s, int64(0))
	}
	for _, us := range []int64{1e18, -1e18, math.MaxInt64, math.MinInt64, -62167219200e6 - 1, 253402300800e6} {
		f.Add("", us)
	}
	db := openDB(f)
	f.Fuzz(func(t *testing.T, s string, us int64) {
		generated := s == ""
		if generated {
			s = time.UnixMicro(us).UTC().Format(time.RFC3339Nano)
		}
		check := func(sqlType, s string, got int64, ok bool, expr string) {
			var want sql.NullInt64
			if err := db.QueryRow(`SELECT `+expr+`TRY_CAST(? AS `+sqlType+`))`, s).Scan(&want); err != nil {
				t.Fatal(err)
			}
			if ok != want.Valid || ok && got != want.Int64 {
				t.Fatalf("%s %q: parsed %d (%v), DuckDB reads %v", sqlType, s, got, ok, want)
			}
		}
		if schema.IsISOTimestamp(s) || generated {
			// The job files get a detected timestamp in the extended
			// form (other forms dlt detects are rewritten into it).
			ts := s
			if !generated {
				ts = schema.Canonical(s, schema.Timestamp).(string)
			}
			us, ok := jobfile.ParseTimestamp(ts)
			check("TIMESTAMPTZ", ts, us, ok, "epoch_us(")
		}
		if dateShape.MatchString(s) {
			d, ok := jobfile.ParseDate(s)
			check("DATE", s, int64(d), ok, "date_diff('day', DATE '1970-01-01', ")
		}
		if timeShape.MatchString(s) {
			us, ok := jobfile.ParseTime(s)
			check("TIME", s, us, ok, "epoch_us(")
		}
	})
}

// FuzzCoercedDatesAreWritten: whatever string the normalizer makes a
// timestamp, date or time (detected, or coerced into a declared column, as
// emit does: InferType, then Coerce) is one the Parquet job files read,
// and the binary COPY files name the same value (or leave the text, in the
// extended ISO form, to PostgreSQL's input, as for a year past 9999). A
// value the writers refused was written as NULL or stopped the load of
// its package at every later run.
func FuzzCoercedDatesAreWritten(f *testing.F) {
	for _, s := range []string{
		"2024-01-01T10Z", "20240101T100000.5Z", "2024-W01-1T10:00", "2024/01/15 9:05:07|5", "2024 1:5", "1700000000.5",
		" 1e9 ", "2024", "20200518Tz", "9999040344", "10:5", "T10:00", "10:00+02:00", "23:30-01:00", "2024-05-06T23:00:00-05:00",
		"0001-01-01T00:30+01:00", "9999-12-31T23:59:59.9999999-23:59", "253402300799.9999999", "-62135596800",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		typ, ok := schema.InferType(s)
		if !ok {
			return
		}
		if v, ok := schema.Coerce(s, typ, schema.Timestamp); ok {
			us, ok1 := jobfile.ParseTimestamp(v.(string))
			pg, ok2 := jobfile.PGTimestamp(v.(string))
			if !ok1 || ok2 && pg != us-946_684_800_000_000 {
				t.Fatalf("%q is the timestamp %q: Parquet %d (%v), PostgreSQL %d (%v)", s, v, us, ok1, pg, ok2)
			}
		}
		if v, ok := schema.Coerce(s, typ, schema.Date); ok {
			d, ok1 := jobfile.ParseDate(v.(string))
			pg, ok2 := jobfile.PGDate(v.(string))
			if !ok1 || ok2 && pg != d-10_957 {
				t.Fatalf("%q is the date %q: Parquet %d (%v), PostgreSQL %d (%v)", s, v, d, ok1, pg, ok2)
			}
		}
		if v, ok := schema.Coerce(s, typ, schema.Time); ok {
			us, ok1 := jobfile.ParseTime(v.(string))
			pg, ok2 := jobfile.PGTime(v.(string))
			if !ok1 || ok2 && pg != us {
				t.Fatalf("%q is the time %q: Parquet %d (%v), PostgreSQL %d (%v)", s, v, us, ok1, pg, ok2)
			}
		}
	})
}
