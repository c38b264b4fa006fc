package schema

import (
	"fmt"
	"strconv"
	"strings"
)

// Decimal columns hold at most this many digits (DuckDB's DECIMAL and dlt's
// default precision for decimal and wei); an undeclared decimal keeps
// DefaultDecimalScale of them after the point.
const (
	MaxDecimalPrecision = 38
	DefaultDecimalScale = 9
)

// CheckDecimal returns an error (its Table left to the caller) when the number v (as Coerce returns it for
// a decimal or wei column: text, possibly with an exponent) has more digits
// before the point than column c holds: DuckDB and PostgreSQL refuse it at
// load, after the package is normalized, and every later run would stop
// on it. Digits past the scale are rounded by the destination, as dlt's
// are.
func CheckDecimal(v any, c *Column) *ValueError {
	s, ok := v.(string)
	if !ok {
		return nil
	}
	precision, scale := MaxDecimalPrecision, 0
	if c.DataType == Decimal {
		scale = DefaultDecimalScale
		if c.Precision != nil && *c.Precision > 0 {
			precision, scale = *c.Precision, c.Scale
		}
	}
	n, ok := integerDigits(s)
	if !ok || n <= precision-scale {
		return nil
	}
	return &ValueError{Column: c.Name, Detail: fmt.Sprintf("%s has %d digits before the point; a %s(%d,%d) column holds %d: declare the column with a larger precision (at most %d), or as double or text",
		s, n, c.DataType, precision, scale, precision-scale, MaxDecimalPrecision)}
}

// integerDigits counts the digits before the point of a decimal number in
// text ("-0012.5e3" has 5), ignoring leading zeros.
func integerDigits(s string) (int, bool) {
	s = strings.TrimLeft(s, "+-")
	exp := 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.Atoi(s[i+1:])
		if err != nil {
			return 0, false
		}
		exp, s = e, s[:i]
	}
	whole, frac := s, ""
	if i := strings.IndexByte(s, '.'); i >= 0 {
		whole, frac = s[:i], s[i+1:]
	}
	all := whole + frac
	significant := strings.TrimLeft(all, "0")
	if significant == "" {
		return 0, true
	}
	return max(len(whole)+exp-(len(all)-len(significant)), 0), true
}
