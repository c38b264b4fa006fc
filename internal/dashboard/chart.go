package dashboard

// The table-sizes picture, drawn as SVG in the page the way the control
// plane draws its pictures (internal/server/charts.go): no charting
// script to ship, nothing for an app's CSP to allow, shown with
// JavaScript off. It is role="img", labelled by its <title> and described
// by its <desc>, which says in words what the bars show; the page's table
// of tables holds the same numbers. The helpers are not shared with the
// server's: they are a few lines, and the two pages style their pictures
// each with their own CSS.

import (
	"fmt"
	"html/template"
	"math"
	"sort"
	"strings"

	"github.com/dustin/go-humanize"
)

// tableSize is one table as the picture shows it; Bytes is -1 where the
// destination does not tell.
type tableSize struct {
	Name  string
	Rows  int64
	Bytes int64
}

// sizesChartTables bounds the bars drawn (the tables with most rows); the
// description names the rest.
const sizesChartTables = 12

// Geometry, in viewBox units.
const (
	sizesW      = 560.0
	sizesRowH   = 24.0
	sizesBarH   = 14.0
	sizesCharW  = 7.2   // a label character, roughly, at 12px
	sizesValueW = 150.0 // room right of the longest bar for its value
	sizesLabelN = 32    // label characters drawn before clipping
)

// sizesChart draws the rows of each data table of a dataset as horizontal
// bars, most rows first, each labelled with its rows (and bytes, where
// known). dlt's own tables (_dlt_…) are left out of the bars and said so.
// "" when the dataset has no data table.
func sizesChart(id, dataset string, tables []tableSize) template.HTML {
	var data []tableSize
	system := 0
	for _, t := range tables {
		if strings.HasPrefix(t.Name, "_dlt_") {
			system++
			continue
		}
		data = append(data, t)
	}
	if len(data) == 0 {
		return ""
	}
	sort.SliceStable(data, func(i, j int) bool {
		if data[i].Rows != data[j].Rows {
			return data[i].Rows > data[j].Rows
		}
		return data[i].Name < data[j].Name
	})
	drawn := data[:min(len(data), sizesChartTables)]
	longest := 0
	for _, t := range drawn {
		longest = max(longest, len([]rune(clip(t.Name, sizesLabelN))))
	}
	left := float64(longest)*sizesCharW + 12
	plotW := sizesW - left - sizesValueW
	var most int64
	for _, t := range drawn {
		most = max(most, t.Rows)
	}
	h := float64(len(drawn))*sizesRowH + 8

	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" id="%s" role="img" aria-labelledby="%s-title %s-desc" viewBox="0 0 %s %s" width="%s" height="%s" xmlns="http://www.w3.org/2000/svg">`,
		id, id, id, num(sizesW), num(h), num(sizesW), num(h))
	fmt.Fprintf(&b, `<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, id, esc("Rows per table in dataset "+dataset), id, esc(sizesDesc(dataset, data, system)))
	fmt.Fprintf(&b, `<line class="axis" x1="%s" x2="%s" y1="4" y2="%s"/>`, num(left), num(left), num(h-4))
	for i, t := range drawn {
		y := 4 + float64(i)*sizesRowH
		mid := y + sizesRowH/2
		w := 0.0
		if most > 0 && t.Rows > 0 {
			w = math.Max(plotW*float64(t.Rows)/float64(most), 1.5) // a table of one row still shows
		}
		fmt.Fprintf(&b, `<g class="table"><title>%s</title>`, esc(tableSentence(t)))
		fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="end">%s</text>`, num(left-6), num(mid+4), esc(clip(t.Name, sizesLabelN)))
		if w > 0 {
			fmt.Fprintf(&b, `<rect class="bar" x="%s" y="%s" width="%s" height="%s"/>`, num(left), num(mid-sizesBarH/2), num(w), num(sizesBarH))
		}
		fmt.Fprintf(&b, `<text x="%s" y="%s">%s</text>`, num(left+w+6), num(mid+4), esc(sizeLabel(t)))
		b.WriteString(`</g>`)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // every text in it went through esc
}

// sizeLabel is what a bar says: "1,234 rows · 48 KiB".
func sizeLabel(t tableSize) string {
	s := humanize.Comma(t.Rows) + " rows"
	if t.Rows == 1 {
		s = "1 row"
	}
	if t.Bytes >= 0 {
		s += " · " + humanize.IBytes(uint64(t.Bytes))
	}
	return s
}

// tableSentence is one table in words: the title of its bar.
func tableSentence(t tableSize) string {
	s := t.Name + ": " + humanize.Comma(t.Rows) + " rows"
	if t.Rows == 1 {
		s = t.Name + ": 1 row"
	}
	if t.Bytes >= 0 {
		s += ", " + humanize.IBytes(uint64(t.Bytes))
	}
	return s
}

// sizesDesc says what the picture shows: how many tables, each with its
// rows (and bytes), most rows first, those not drawn, and that dlt's own
// tables are left out. data is sorted as drawn.
func sizesDesc(dataset string, data []tableSize, system int) string {
	s := fmt.Sprintf("Bars of the rows in each of the %d data tables of dataset %s, most rows first, on one scale.", len(data), dataset)
	if len(data) == 1 {
		s = fmt.Sprintf("A bar of the rows in the one data table of dataset %s.", dataset)
	}
	var said []string
	for _, t := range data[:min(len(data), sizesChartTables)] {
		said = append(said, tableSentence(t))
	}
	s += " " + strings.Join(said, "; ") + "."
	if len(data) > sizesChartTables {
		var rest []string
		for _, t := range data[sizesChartTables:] {
			rest = append(rest, t.Name)
		}
		s += " Not drawn, with fewer rows: " + strings.Join(rest, ", ") + "."
	}
	switch {
	case system == 1:
		s += " dlt's own table (_dlt_…) is left out; the table below lists it."
	case system > 1:
		s += fmt.Sprintf(" dlt's own %d tables (_dlt_…) are left out; the table below lists them.", system)
	}
	return s
}

// num is a coordinate with at most one decimal: short markup, no float
// noise.
func num(f float64) string {
	return strings.TrimSuffix(fmt.Sprintf("%.1f", f), ".0")
}

// clip shortens a label to n characters with an ellipsis.
func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// esc escapes text for the SVG inside the HTML page.
func esc(s string) string { return template.HTMLEscapeString(s) }
