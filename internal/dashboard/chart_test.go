package dashboard

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
)

// svgDoc is what a picture says to someone who cannot see it, and where
// its bars are.
type svgDoc struct {
	Role       string `xml:"role,attr"`
	LabelledBy string `xml:"aria-labelledby,attr"`
	Title      struct {
		ID   string `xml:"id,attr"`
		Text string `xml:",chardata"`
	} `xml:"title"`
	Desc struct {
		ID   string `xml:"id,attr"`
		Text string `xml:",chardata"`
	} `xml:"desc"`
	Tables []struct {
		Title string   `xml:"title"`
		Texts []string `xml:"text"`
		Rect  *struct {
			Width string `xml:"width,attr"`
		} `xml:"rect"`
	} `xml:"g"`
}

// parseSVG fails the test unless the picture is well-formed XML (else
// the browser draws nothing, or half) and answers its parts.
func parseSVG(t *testing.T, svg string) svgDoc {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(svg))
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed SVG: %v\n%s", err, svg)
		}
	}
	var doc svgDoc
	if err := xml.Unmarshal([]byte(svg), &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestSizesChartSaysWhatItDraws(t *testing.T) {
	svg := string(sizesChart("sizes-1", "github_data", []tableSize{
		{Name: "_dlt_loads", Rows: 2, Bytes: 16384},
		{Name: "issues__labels", Rows: 34, Bytes: 24576},
		{Name: "issues", Rows: 100, Bytes: 98304},
		{Name: "issues__assignees", Rows: 1, Bytes: 8192},
		{Name: "empty", Rows: 0, Bytes: 0},
	}))
	doc := parseSVG(t, svg)
	// The text alternative: labelled by its title, described by its desc.
	if doc.Role != "img" || doc.LabelledBy != "sizes-1-title sizes-1-desc" || doc.Title.ID != "sizes-1-title" || doc.Desc.ID != "sizes-1-desc" {
		t.Errorf("not an image labelled by its title and desc: %+v", doc)
	}
	if doc.Title.Text != "Rows per table in dataset github_data" {
		t.Errorf("title %q", doc.Title.Text)
	}
	wantDesc := "Bars of the rows in each of the 4 data tables of dataset github_data, most rows first, on one scale. " +
		"issues: 100 rows, 96 KiB; issues__labels: 34 rows, 24 KiB; issues__assignees: 1 row, 8.0 KiB; empty: 0 rows, 0 B. " +
		"dlt's own table (_dlt_…) is left out; the table below lists it."
	if doc.Desc.Text != wantDesc {
		t.Errorf("desc:\n got %q\nwant %q", doc.Desc.Text, wantDesc)
	}
	// One bar per data table, most rows first, as long as its rows say;
	// each with its name, its numbers and a title for the pointer.
	if len(doc.Tables) != 4 {
		t.Fatalf("%d bars, want 4 (no _dlt_ table):\n%s", len(doc.Tables), svg)
	}
	width := func(i int) float64 {
		if doc.Tables[i].Rect == nil {
			return 0
		}
		w, err := strconv.ParseFloat(doc.Tables[i].Rect.Width, 64)
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	for i, want := range []struct{ name, label, title string }{
		{"issues", "100 rows · 96 KiB", "issues: 100 rows, 96 KiB"},
		{"issues__labels", "34 rows · 24 KiB", "issues__labels: 34 rows, 24 KiB"},
		{"issues__assignees", "1 row · 8.0 KiB", "issues__assignees: 1 row, 8.0 KiB"},
		{"empty", "0 rows · 0 B", "empty: 0 rows, 0 B"},
	} {
		g := doc.Tables[i]
		if len(g.Texts) != 2 || g.Texts[0] != want.name || g.Texts[1] != want.label || g.Title != want.title {
			t.Errorf("bar %d: %+v, want %+v", i, g, want)
		}
	}
	if ratio := width(1) / width(0); ratio < 0.33 || ratio > 0.35 {
		t.Errorf("34 rows drawn %.2f of 100 rows' length", ratio)
	}
	if w := width(2); w < 1.5 || w > 5 {
		t.Errorf("a table of one row: bar %.1f wide (shown, but small)", w)
	}
	if doc.Tables[3].Rect != nil {
		t.Errorf("an empty table has a bar")
	}
}

// Where the destination does not tell bytes (DuckDB), the picture says
// rows only; names are escaped; tables past the ones drawn are named in
// the description; a dataset of dlt's tables only has no picture.
func TestSizesChartEdges(t *testing.T) {
	var many []tableSize
	for i := range sizesChartTables + 2 {
		many = append(many, tableSize{Name: fmt.Sprintf("t%02d", i), Rows: int64(1000 - i), Bytes: -1})
	}
	many = append(many, tableSize{Name: `a<b&"c"`, Rows: 5000, Bytes: -1})
	svg := string(sizesChart("sizes-2", "shop", many))
	doc := parseSVG(t, svg)
	if len(doc.Tables) != sizesChartTables {
		t.Errorf("%d bars drawn, want %d", len(doc.Tables), sizesChartTables)
	}
	if g := doc.Tables[0]; g.Texts[0] != `a<b&"c"` || g.Texts[1] != "5,000 rows" || g.Title != `a<b&"c": 5,000 rows` {
		t.Errorf("first bar: %+v", g)
	}
	if !strings.HasSuffix(doc.Desc.Text, "Not drawn, with fewer rows: t11, t12, t13.") || strings.Contains(doc.Desc.Text, "KiB") || strings.Contains(doc.Desc.Text, "left out") {
		t.Errorf("desc: %q", doc.Desc.Text)
	}
	if strings.Contains(svg, "a<b") || !strings.Contains(svg, "a&lt;b&amp;&#34;c&#34;") {
		t.Errorf("a table name is not escaped:\n%s", svg)
	}
	if got := sizesChart("sizes-3", "x", []tableSize{{Name: "_dlt_version", Rows: 1, Bytes: -1}}); got != "" {
		t.Errorf("a picture of dlt's tables only: %s", got)
	}
	if got := sizesChart("sizes-4", "x", nil); got != "" {
		t.Errorf("a picture of nothing: %s", got)
	}
}
