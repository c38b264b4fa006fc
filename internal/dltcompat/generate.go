package dltcompat

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
)

// Generate makes n cases of random nested documents from a seed (the same
// seed, the same cases), so the harness explores what nobody wrote down:
// keys in odd spellings, nesting, lists of lists, nulls and mixed types.
func Generate(seed uint64, n int) []Case {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	keys := []string{"id", "name", "Camel Case", "small__love__potion", "with-dash", "x", "Value", "nested", "list", "ümlaut", "a b", "_private", "2nd", "HTTPCode"}
	var doc func(depth int) any
	scalar := func() any {
		switch rng.IntN(9) {
		case 0:
			return nil
		case 1:
			return rng.IntN(1000) - 500
		case 2:
			return float64(rng.IntN(10000)) / 8
		case 3:
			return rng.IntN(2) == 0
		case 4:
			return fmt.Sprintf("2024-0%d-1%dT0%d:00:00Z", 1+rng.IntN(9), rng.IntN(10), rng.IntN(10))
		case 5:
			return ""
		default:
			return keys[rng.IntN(len(keys))] + "!"
		}
	}
	doc = func(depth int) any {
		if depth > 3 {
			return scalar()
		}
		switch rng.IntN(6) {
		case 0:
			l := make([]any, rng.IntN(3))
			for i := range l {
				l[i] = doc(depth + 1)
			}
			return l
		case 1:
			m := map[string]any{}
			for range rng.IntN(4) {
				m[keys[rng.IntN(len(keys))]] = doc(depth + 1)
			}
			return m
		default:
			return scalar()
		}
	}
	out := make([]Case, 0, n)
	for i := range n {
		var recs []json.RawMessage
		for range 1 + rng.IntN(4) {
			m := map[string]any{}
			for range 1 + rng.IntN(5) {
				m[keys[rng.IntN(len(keys))]] = doc(1)
			}
			b, _ := json.Marshal(m)
			recs = append(recs, b)
		}
		out = append(out, Case{Name: fmt.Sprintf("gen_%d_%03d", seed, i), Loads: [][]json.RawMessage{recs}, Why: "generated"})
	}
	return out
}
