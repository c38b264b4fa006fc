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
