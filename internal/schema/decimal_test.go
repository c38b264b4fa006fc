package schema

import (
	"strings"
	"testing"

	"github.com/dlthub/dlthub/internal/jsonx"
)

func TestIntegerDigits(t *testing.T) {
	for s, want := range map[string]int{
		"0": 0, "-0.5": 0, "123.45": 3, "-0012.5e3": 5, "1e+300": 301, "1.5e-3": 0,
		"0.0000001": 0, "99999999999999999999999999999": 29, "1E2": 3, "000": 0,
	} {
		if got, ok := integerDigits(s); !ok || got != want {
			t.Errorf("integerDigits(%q) = %d, %v; want %d", s, got, ok, want)
		}
	}
}

// A number with more digits before the point than its column holds is
// refused, naming the column and what to declare; digits past the scale
// are the destination's to round.
func TestCheckDecimal(t *testing.T) {
	dec := &Column{Name: "amount", DataType: Decimal}
	narrow := &Column{Name: "price", DataType: Decimal, Precision: new(5), Scale: 2}
	wei := &Column{Name: "balance", DataType: Wei}
	for _, tc := range []struct {
		v   string
		c   *Column
		bad bool
	}{
		{strings.Repeat("9", 29) + ".123456789123", dec, false},
		{strings.Repeat("9", 30), dec, true},
		{"1e+300", dec, true},
		{"0.000000000000000000000000000000000000000001", dec, false},
		{"999.99", narrow, false},
		{"1000", narrow, true},
		{strings.Repeat("9", 38), wei, false},
		{"-" + strings.Repeat("9", 39), wei, true},
	} {
		err := CheckDecimal(tc.v, tc.c)
		if (err != nil) != tc.bad {
			t.Errorf("CheckDecimal(%s, %s) = %v, want refused %v", tc.v, tc.c.Name, err, tc.bad)
		}
		if err != nil && (!strings.Contains(err.Error(), `column "`+tc.c.Name+`"`) || !strings.Contains(err.Error(), "declare the column")) {
			t.Errorf("error %q names neither the column nor what to do", err)
		}
	}
	if typ, _ := InferType(jsonx.Number(strings.Repeat("1", 39))); typ != Text {
		t.Errorf("a 39-digit integer infers %s, want text", typ)
	}
	if typ, _ := InferType(jsonx.Number(strings.Repeat("1", 38))); typ != Wei {
		t.Errorf("a 38-digit integer infers %s, want wei", typ)
	}
}
