package server

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// cssRule is one rule of pageCSS: its selector and declarations.
type cssRule struct {
	selector string
	decls    map[string]string
}

// parseCSS reads the rules of a style sheet as simple as pageCSS: no
// comments, @media blocks holding plain rules.
func parseCSS(t *testing.T, css string) []cssRule {
	t.Helper()
	var rules []cssRule
	for rest := strings.TrimSpace(css); rest != ""; rest = strings.TrimSpace(rest) {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			t.Fatalf("css: text after the last rule: %q", rest)
		}
		sel := strings.TrimSpace(rest[:open])
		if strings.HasPrefix(sel, "@media") {
			depth, end := 0, -1
			for i := open; i < len(rest) && end < 0; i++ {
				switch rest[i] {
				case '{':
					depth++
				case '}':
					if depth--; depth == 0 {
						end = i
					}
				}
			}
			if end < 0 {
				t.Fatalf("css: %s does not end", sel)
			}
			rules = append(rules, parseCSS(t, rest[open+1:end])...)
			rest = rest[end+1:]
			continue
		}
		end := strings.IndexByte(rest, '}')
		if end < open {
			t.Fatalf("css: rule %q does not end", sel)
		}
		r := cssRule{selector: sel, decls: map[string]string{}}
		for _, d := range strings.Split(rest[open+1:end], ";") {
			name, value, ok := strings.Cut(d, ":")
			if !ok {
				if strings.TrimSpace(d) != "" {
					t.Fatalf("css: %s: %q is not a declaration", sel, d)
				}
				continue
			}
			r.decls[strings.TrimSpace(name)] = strings.TrimSpace(value)
		}
		rules = append(rules, r)
		rest = rest[end+1:]
	}
	return rules
}

// hexColour finds the one #rgb or #rrggbb colour in a declaration's
// value ("" when there is none).
func hexColour(t *testing.T, where, value string) string {
	t.Helper()
	found := regexp.MustCompile(`#[0-9a-fA-F]+\b`).FindAllString(value, -1)
	switch {
	case len(found) == 0:
		return ""
	case len(found) > 1:
		t.Fatalf("%s: more than one colour in %q", where, value)
	case len(found[0]) != 4 && len(found[0]) != 7:
		t.Fatalf("%s: %s has transparency or is no colour: contrast needs an opaque #rgb or #rrggbb", where, found[0])
	}
	return found[0]
}

// luminance is a colour's relative luminance as WCAG 2 defines it.
func luminance(t *testing.T, hex string) float64 {
	t.Helper()
	h := strings.TrimPrefix(hex, "#")
	if len(h) == 3 {
		h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
	}
	v, err := strconv.ParseUint(h, 16, 32)
	if err != nil || len(h) != 6 {
		t.Fatalf("colour %q: %v", hex, err)
	}
	channel := func(c uint64) float64 {
		s := float64(c) / 255
		if s <= 0.04045 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*channel(v>>16&0xff) + 0.7152*channel(v>>8&0xff) + 0.0722*channel(v&0xff)
}

// contrast is the WCAG contrast ratio of two colours, from 1 to 21.
func contrast(t *testing.T, a, b string) float64 {
	t.Helper()
	la, lb := luminance(t, a), luminance(t, b)
	return (math.Max(la, lb) + 0.05) / (math.Min(la, lb) + 0.05)
}

func TestContrastFormula(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want float64
	}{
		{"#000", "#fff", 21},
		{"#fff", "#fff", 1},
		{"#777777", "#ffffff", 4.48}, // the grey that famously just fails AA
		{"#767676", "#ffffff", 4.54}, // and the one that passes
	} {
		if got := contrast(t, c.a, c.b); math.Abs(got-c.want) > 0.01 {
			t.Errorf("contrast(%s, %s) = %.3f, want %.2f", c.a, c.b, got, c.want)
		}
	}
}

// TestPageColoursPassWCAGAA holds every colour pageCSS defines to WCAG
// 2.1 AA: text 4.5:1 on what it sits on (1.4.3); the marks that carry a
// picture's data, the focus ring and the borders of form controls 3:1
// (1.4.11). What text sits on is the rule's own background, else the
// backgrounds of its context: inside the log, the log's; elsewhere every
// page background (the body's, main's and the ones set without a
// colour, such as code's). A background without a colour carries the
// context's text. In pictures (.chart, the .st- and .edge- marks) text
// and marks sit on main's white. Gridlines are decoration and exempt.
func TestPageColoursPassWCAGAA(t *testing.T) {
	rules := parseCSS(t, pageCSS)
	bg := func(r cssRule) string {
		for _, p := range []string{"background", "background-color"} {
			if v, ok := r.decls[p]; ok {
				return hexColour(t, r.selector+" "+p, v)
			}
		}
		return ""
	}
	inLog := func(r cssRule) bool { return strings.HasPrefix(r.selector, ".log") }
	inPicture := func(r cssRule) bool {
		return strings.Contains(r.selector, ".chart") || strings.Contains(r.selector, ".st-") ||
			strings.Contains(r.selector, ".edge") || strings.Contains(r.selector, ".arrow-")
	}
	var pageBGs, logBGs []string
	var bodyText, logText, white string
	for _, r := range rules {
		b := bg(r)
		switch {
		case b == "" && r.decls["color"] == "":
			// layout only
		case r.selector == "body":
			bodyText = hexColour(t, "body color", r.decls["color"])
			pageBGs = append(pageBGs, b)
		case r.selector == "main":
			white = b
			pageBGs = append(pageBGs, b)
		case r.selector == ".log":
			logText = hexColour(t, ".log color", r.decls["color"])
			logBGs = append(logBGs, b)
		case b != "" && inLog(r):
			logBGs = append(logBGs, b)
		case b != "" && r.decls["color"] == "":
			pageBGs = append(pageBGs, b)
		}
	}
	if bodyText == "" || logText == "" || white == "" || len(logBGs) < 2 {
		t.Fatalf("the sheet lost its base colours: body %q, log %q, main %q, log backgrounds %v", bodyText, logText, white, logBGs)
	}

	checked := 0
	check := func(what, fg, on string, want float64) {
		t.Helper()
		checked++
		if got := contrast(t, fg, on); got < want {
			t.Errorf("%s: %s on %s has contrast %.2f:1, WCAG AA asks %.1f:1", what, fg, on, got, want)
		}
	}
	for _, r := range rules {
		where := r.selector
		fg := hexColour(t, where+" color", r.decls["color"])
		own := bg(r)
		ctxBGs, ctxText := pageBGs, bodyText
		if inLog(r) {
			ctxBGs, ctxText = logBGs, logText
		}
		switch {
		case fg != "" && own != "":
			check(where+" (text on its background)", fg, own, 4.5)
		case fg != "":
			for _, b := range ctxBGs {
				check(where+" (text)", fg, b, 4.5)
			}
		case own != "":
			check(where+" (the text it carries)", ctxText, own, 4.5)
		}
		if o, ok := r.decls["outline"]; ok && o != "none" {
			ring := hexColour(t, where+" outline", o)
			if ring == "" {
				t.Errorf("%s: the focus ring %q has no colour to check", where, o)
			}
			for _, b := range pageBGs {
				check(where+" (focus ring)", ring, b, 3)
			}
		}
		if bd, ok := r.decls["border"]; ok && regexp.MustCompile(`\b(input|select|button)\b`).MatchString(where) {
			for _, b := range pageBGs {
				check(where+" (control border)", hexColour(t, where+" border", bd), b, 3)
			}
		}
		if !inPicture(r) {
			for _, p := range []string{"fill", "stroke"} {
				if _, ok := r.decls[p]; ok {
					t.Errorf("%s: %s outside a picture's classes: this test does not know what it sits on", where, p)
				}
			}
			continue
		}
		if strings.Contains(where, ".grid") {
			continue // gridlines: decoration, the values are in labels and titles
		}
		text := strings.HasSuffix(where, " text") || strings.Contains(where, "elabel")
		for _, p := range []string{"fill", "stroke"} {
			v, ok := r.decls[p]
			if !ok || v == "none" {
				continue
			}
			c := hexColour(t, where+" "+p, v)
			if c == "" {
				t.Errorf("%s: %s %q is no hex colour this test can check", where, p, v)
				continue
			}
			switch {
			case text && p == "fill":
				check(where+" (text in a picture)", c, white, 4.5)
			case text || c == white:
				// a text's halo, or a box's own background
			default:
				check(where+" (a mark in a picture)", c, white, 3)
			}
		}
	}
	if checked < 40 {
		t.Errorf("only %d colour pairs checked: the parser missed rules", checked)
	}
	t.Logf("%d colour pairs checked", checked)
}

// TestParseCSSReadsMediaBlocks keeps the parser honest: rules inside
// @media are read, and the rule after the block too.
func TestParseCSSReadsMediaBlocks(t *testing.T) {
	rules := parseCSS(t, "a{color:#111}\n@media (max-width:40rem){\nb{color:#222}\nc{background:#333}\n}\nd{color:#444}")
	var got []string
	for _, r := range rules {
		got = append(got, fmt.Sprintf("%s=%s%s", r.selector, r.decls["color"], r.decls["background"]))
	}
	if strings.Join(got, " ") != "a=#111 b=#222 c=#333 d=#444" {
		t.Errorf("rules %q", got)
	}
}
