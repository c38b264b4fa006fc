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
