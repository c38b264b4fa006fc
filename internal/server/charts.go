package server

// The pictures of the pages, drawn here as SVG in the page itself: no
// charting script to ship, nothing for the CSP to allow, and they show
// with JavaScript off. Each one is role="img", labelled by its <title>
// and described by its <desc>, which says in words what the picture
// shows (assistive technology reads that, not the shapes); the pages keep
// the same data in tables too. Colours come from pageCSS classes, never
// alone: a run's outcome is also its marker's shape, the legend says both,
// and every mark has a <title> for the pointer.

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/dlthub/dlthub/internal/store"
)

// chartRun is a run as the job page's pictures show it.
type chartRun struct {
	Number int
	Status string
	// At is when the run started, or was queued when it has not.
	At time.Time
	// Took is how long it ran (so far, while it runs); Timed is false for
	// runs that never started.
	Took  time.Duration
	Timed bool
	Rows  map[string]int64
}

// chartRunOf is a stored run as the pictures show it at now.
func chartRunOf(r store.Run, now time.Time) chartRun {
	c := chartRun{Number: r.Number, Status: r.Status, At: r.CreatedAt, Rows: r.TableRows}
	if r.StartedAt != nil {
		c.At, c.Timed = *r.StartedAt, true
		end := now
		if r.FinishedAt != nil {
			end = *r.FinishedAt
		}
		c.Took = max(end.Sub(*r.StartedAt), 0)
	}
	return c
}

// outcome is the class of a run's status in the pictures: statuses that
// look alike share one (starting counts as running, cancelling as
// cancelled).
func outcome(status string) string {
	switch status {
	case store.RunCompleted, store.RunFailed, store.RunSkipped:
		return status
	case store.RunCancelled, store.RunCancelling:
		return store.RunCancelled
	case store.RunRunning, store.RunStarting:
		return store.RunRunning
	}
	return store.RunPending
}

// outcomes are the outcome classes in the order legends and
// descriptions list them.
func outcomes() []string {
	return []string{store.RunCompleted, store.RunFailed, store.RunCancelled, store.RunSkipped, store.RunRunning, store.RunPending}
}

// marker is the shape of an outcome centred on (x, y), so an outcome is
// told by its shape as well as its colour: a disc for completed, a cross
// for failed, a square for cancelled, a triangle for skipped, a diamond
// for running and a ring for pending.
func marker(kind string, x, y float64) string {
	var shape string
	switch kind {
	case store.RunCompleted:
		shape = `<circle r="5"/>`
	case store.RunFailed:
		shape = `<path d="M-5.5-3.5-3.5-5.5 0-2 3.5-5.5 5.5-3.5 2 0 5.5 3.5 3.5 5.5 0 2-3.5 5.5-5.5 3.5-2 0z"/>`
	case store.RunCancelled:
		shape = `<rect x="-4.5" y="-4.5" width="9" height="9"/>`
	case store.RunSkipped:
		shape = `<path d="M0-5.5 5.5 4.5h-11z"/>`
	case store.RunRunning:
		shape = `<path d="M0-6 6 0 0 6-6 0z"/>`
	default:
		shape = `<circle r="4"/>`
	}
	return fmt.Sprintf(`<g class="st-%s" transform="translate(%s %s)">%s</g>`, kind, num(x), num(y), shape)
}

// outcomeLegend says which marker is which outcome, in words next to the
// shapes, for the outcomes the picture shows.
func outcomeLegend(runs []chartRun) string {
	seen := map[string]bool{}
	for _, r := range runs {
		seen[outcome(r.Status)] = true
	}
	var b strings.Builder
	b.WriteString(`<ul class="legend" aria-hidden="true">`)
	for _, o := range outcomes() {
		if seen[o] {
			fmt.Fprintf(&b, `<li><svg width="14" height="14" viewBox="-7 -7 14 14">%s</svg>%s</li>`, marker(o, 0, 0), o)
		}
	}
	b.WriteString(`</ul>`)
	return b.String()
}

// num is a coordinate with at most one decimal: short markup, no float
// noise.
func num(f float64) string {
	s := fmt.Sprintf("%.1f", f)
	return strings.TrimSuffix(s, ".0")
}

// Geometry of the run pictures, in viewBox units: the two pictures of a
// job page share the horizontal scale, so a run's bar in one sits above
// its bars in the other.
const (
	chartW     = 480.0
	chartLeft  = 54.0
	chartRight = 10.0
	chartAxisH = 24.0 // run numbers under the bars
)

// slotOf is the centre and the bar width of run i of n.
func slotOf(i, n int) (cx, barW float64) {
	slot := (chartW - chartLeft - chartRight) / float64(n)
	return chartLeft + slot*(float64(i)+0.5), math.Min(slot*0.6, 26)
}

// runNumbers labels the bars with their run numbers at y, skipping some
// when they would crowd (the last always shows).
func runNumbers(b *strings.Builder, runs []chartRun, y float64) {
	n := len(runs)
	slot := (chartW - chartLeft - chartRight) / float64(n)
	every := int(math.Ceil(28 / slot))
	for i, r := range runs {
		if i%every != 0 && i != n-1 {
			continue
		}
		if i != n-1 && n-1-i < every { // leave room for the last
			continue
		}
		cx, _ := slotOf(i, n)
		fmt.Fprintf(b, `<text x="%s" y="%s" text-anchor="middle">#%d</text>`, num(cx), num(y), r.Number)
	}
}

// svgOpen starts a picture with its text alternative.
func svgOpen(b *strings.Builder, id string, w, h float64, title, desc string) {
	fmt.Fprintf(b, `<svg class="chart" id="%s" role="img" aria-labelledby="%s-title %s-desc" viewBox="0 0 %s %s" width="%s" height="%s" xmlns="http://www.w3.org/2000/svg">`,
		id, id, id, num(w), num(h), num(w), num(h))
	fmt.Fprintf(b, `<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, id, html(title), id, html(desc))
}

// durationChart draws how long each run took, oldest on the left: one
// bar per run, its height the duration, a marker of its outcome above it.
// Runs still going are drawn up to now; runs that never started have a
// marker only. runs are oldest first.
func durationChart(id string, runs []chartRun) string {
	if len(runs) == 0 {
		return ""
	}
	const top, plotH = 18.0, 150.0
	h := top + plotH + chartAxisH
	longest := time.Second
	for _, r := range runs {
		longest = max(longest, r.Took)
	}
	step := durationStep(longest / 4)
	scaleTop := time.Duration(math.Ceil(float64(longest)/float64(step))) * step
	y := func(d time.Duration) float64 { return top + plotH - plotH*float64(d)/float64(scaleTop) }

	var b strings.Builder
	svgOpen(&b, id, chartW, h, "How long each run took and how it ended", durationDesc(runs))
	for d := time.Duration(0); d <= scaleTop; d += step {
		fmt.Fprintf(&b, `<line class="grid" x1="%s" x2="%s" y1="%s" y2="%s"/>`, num(chartLeft), num(chartW-chartRight), num(y(d)), num(y(d)))
		fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="end">%s</text>`, num(chartLeft-6), num(y(d)+4), axisDuration(d, step))
	}
	fmt.Fprintf(&b, `<line class="axis" x1="%s" x2="%s" y1="%s" y2="%s"/>`, num(chartLeft), num(chartW-chartRight), num(top+plotH), num(top+plotH))
	for i, r := range runs {
		cx, bw := slotOf(i, len(runs))
		kind := outcome(r.Status)
		fmt.Fprintf(&b, `<g class="run"><title>%s</title>`, html(runSentence(r)))
		markY := top + plotH - 8
		if r.Timed {
			barTop := math.Min(y(r.Took), top+plotH-2) // a run of no time still shows
			fmt.Fprintf(&b, `<rect class="st-%s" x="%s" y="%s" width="%s" height="%s"/>`, kind, num(cx-bw/2), num(barTop), num(bw), num(top+plotH-barTop))
			markY = barTop - 8
		}
		b.WriteString(marker(kind, cx, markY))
		b.WriteString(`</g>`)
	}
	runNumbers(&b, runs, h-6)
	b.WriteString(`</svg>`)
	return b.String()
}

// runSentence is one run in words: the title of its marks.
func runSentence(r chartRun) string {
	s := fmt.Sprintf("Run #%d %s", r.Number, r.Status)
	if r.Timed {
		if r.Status == store.RunRunning || r.Status == store.RunStarting || r.Status == store.RunCancelling {
			s += ", running for " + humanDuration(r.Took)
		} else {
			s += " after " + humanDuration(r.Took)
		}
		s += ", started " + r.At.UTC().Format("2006-01-02 15:04 UTC")
	} else {
		s += ", queued " + r.At.UTC().Format("2006-01-02 15:04 UTC")
	}
	return s
}

// durationDesc says what the duration picture shows: the span of runs,
// how many ended how, and the shortest, typical and longest run.
func durationDesc(runs []chartRun) string {
	counts := map[string]int{}
	var took []time.Duration
	for _, r := range runs {
		counts[outcome(r.Status)]++
		if r.Timed && r.Status != store.RunRunning && r.Status != store.RunStarting {
			took = append(took, r.Took)
		}
	}
	var parts []string
	for _, o := range outcomes() {
		if counts[o] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[o], o))
		}
	}
	s := fmt.Sprintf("Bars for the last %d runs, oldest first, from #%d (%s) to #%d (%s): %s.",
		len(runs), runs[0].Number, runs[0].At.UTC().Format("2006-01-02 15:04 UTC"),
		runs[len(runs)-1].Number, runs[len(runs)-1].At.UTC().Format("2006-01-02 15:04 UTC"), strings.Join(parts, ", "))
	if len(took) > 0 {
		sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
		s += fmt.Sprintf(" Ended runs took from %s to %s, typically %s.", humanDuration(took[0]), humanDuration(took[len(took)-1]), humanDuration(took[len(took)/2]))
	}
	// The failures, latest first, a few of them: the table has the rest.
	const failuresSaid = 5
	said := 0
	for i := len(runs) - 1; i >= 0; i-- {
		if outcome(runs[i].Status) != store.RunFailed {
			continue
		}
		if said == failuresSaid {
			s += fmt.Sprintf(" %d earlier runs failed too.", counts[store.RunFailed]-said)
			break
		}
		s += " " + runSentence(runs[i]) + "."
		said++
	}
	return s
}

// durationStep is a round step for a time axis of about four steps.
func durationStep(d time.Duration) time.Duration {
	for _, s := range []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 20 * time.Second, 30 * time.Second,
		time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 20 * time.Minute, 30 * time.Minute,
		time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour} {
		if s >= d {
			return s
		}
	}
	return 24 * time.Hour * time.Duration(math.Ceil(d.Hours()/24))
}

// axisDuration labels a tick of the time axis in the step's unit.
func axisDuration(d, step time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case step%time.Hour == 0:
		return fmt.Sprintf("%d h", d/time.Hour)
	case step%time.Minute == 0:
		return fmt.Sprintf("%d min", d/time.Minute)
	}
	return fmt.Sprintf("%d s", d/time.Second)
}

// humanDuration is a duration to read: "47 s", "3 min 5 s", "2 h 10 min".
func humanDuration(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", d/time.Second)
	case d < time.Hour:
		if s := d % time.Minute / time.Second; s != 0 {
			return fmt.Sprintf("%d min %d s", d/time.Minute, s)
		}
		return fmt.Sprintf("%d min", d/time.Minute)
	}
	if m := d % time.Hour / time.Minute; m != 0 {
		return fmt.Sprintf("%d h %d min", d/time.Hour, m)
	}
	return fmt.Sprintf("%d h", d/time.Hour)
}

// rowsChartTables bounds the tables the rows picture draws (the largest
// by rows); the rest are named in its description.
const rowsChartTables = 8

// tablesByRows are the tables the runs loaded into, most rows first.
func tablesByRows(runs []chartRun) ([]string, map[string]int64) {
	total := map[string]int64{}
	for _, r := range runs {
		for t, n := range r.Rows {
			total[t] += n
		}
	}
	tables := make([]string, 0, len(total))
	for t := range total {
		tables = append(tables, t)
	}
	sort.Slice(tables, func(i, j int) bool {
		if total[tables[i]] != total[tables[j]] {
			return total[tables[i]] > total[tables[j]]
		}
		return tables[i] < tables[j]
	})
	return tables, total
}

// rowsChart draws the rows each run loaded per table as small multiples:
// one strip per table, a bar per run (in the columns of durationChart),
// each strip on its own scale with its largest value written out. Strips
// rather than stacked bars: tables are told apart by their names, not by
// colours. "" when no run recorded rows. runs are oldest first.
func rowsChart(id string, runs []chartRun) string {
	tables, _ := tablesByRows(runs)
	if len(tables) == 0 {
		return ""
	}
	drawn := tables[:min(len(tables), rowsChartTables)]
	const stripH, labelH, barsH = 54.0, 16.0, 28.0
	h := float64(len(drawn))*stripH + chartAxisH
	var b strings.Builder
	svgOpen(&b, id, chartW, h, "Rows loaded per table in each run", rowsDesc(runs, tables))
	for k, t := range drawn {
		y0 := float64(k) * stripH
		base := y0 + labelH + barsH
		var most int64
		for _, r := range runs {
			most = max(most, r.Rows[t])
		}
		fmt.Fprintf(&b, `<g class="strip"><text x="%s" y="%s" style="font-weight:600">%s</text>`, num(chartLeft), num(y0+12), html(clip(t, 48)))
		fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="end">most %s</text>`, num(chartW-chartRight), num(y0+12), humanize.Comma(most))
		fmt.Fprintf(&b, `<line class="axis" x1="%s" x2="%s" y1="%s" y2="%s"/>`, num(chartLeft), num(chartW-chartRight), num(base), num(base))
		for i, r := range runs {
			n, ok := r.Rows[t]
			if !ok || most == 0 {
				continue
			}
			cx, bw := slotOf(i, len(runs))
			bh := math.Max(barsH*float64(n)/float64(most), 1.5)
			fmt.Fprintf(&b, `<rect class="bar-rows" x="%s" y="%s" width="%s" height="%s"><title>Run #%d: %s rows into %s</title></rect>`,
				num(cx-bw/2), num(base-bh), num(bw), num(bh), r.Number, humanize.Comma(n), html(t))
		}
		b.WriteString(`</g>`)
	}
	runNumbers(&b, runs, h-6)
	b.WriteString(`</svg>`)
	return b.String()
}

// rowsDesc says what the rows picture shows, table by table: the range
// of rows per run and the latest run's.
func rowsDesc(runs []chartRun, tables []string) string {
	var with int
	for _, r := range runs {
		if len(r.Rows) > 0 {
			with++
		}
	}
	s := fmt.Sprintf("%d of the last %d runs recorded rows loaded, into %d tables; one strip per table, each on its own scale.", with, len(runs), len(tables))
	for k, t := range tables {
		if k == rowsChartTables {
			s += fmt.Sprintf(" Not drawn, with fewer rows: %s.", strings.Join(tables[k:], ", "))
			break
		}
		lo, hi, last, lastRun := int64(math.MaxInt64), int64(0), int64(0), 0
		for _, r := range runs {
			if n, ok := r.Rows[t]; ok {
				lo, hi, last, lastRun = min(lo, n), max(hi, n), n, r.Number
			}
		}
		s += fmt.Sprintf(" %s: %s to %s rows per run, %s in run #%d.", t, humanize.Comma(lo), humanize.Comma(hi), humanize.Comma(last), lastRun)
	}
	return s
}

// clip shortens a label to n characters with an ellipsis.
func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// Kinds of edges between jobs: a follow-up trigger (job.success,
// job.fail) or a freshness gate (job.is_fresh).
const (
	edgeSuccess = "success"
	edgeFail    = "fail"
	edgeFresh   = "fresh"
)

// graphEdge is an edge of the jobs graph: To follows From (runs after it
// succeeds or fails) or waits for it to be fresh.
type graphEdge struct {
	From, To, Kind string
}

// edgeSentence is an edge in words.
func edgeSentence(e graphEdge) string {
	switch e.Kind {
	case edgeSuccess:
		return e.To + " runs after " + e.From + " succeeds"
	case edgeFail:
		return e.To + " runs after " + e.From + " fails"
	}
	return e.To + " waits until " + e.From + " is fresh"
}

// edgeLabel is the word written on an edge, so its kind is read, not
// only told by its colour and dashes.
func edgeLabel(kind string) string {
	switch kind {
	case edgeSuccess:
		return "on success"
	case edgeFail:
		return "on failure"
	}
	return "fresh"
}

// layers places a directed graph's nodes in columns, left to right: each
// node one column right of its rightmost predecessor (longest path from a
// source), so every edge points right. Edges that close a cycle (found by
// a depth-first search in node order) are left out of the placing; they
// are drawn as arcs back. Within a column, nodes are ordered by the mean
// position of their neighbours in the column before (the barycentre
// heuristic), swept right then left a few times, which keeps crossings
// few for graphs of the size of a workspace. It answers each node's
// column and the columns' nodes top to bottom, and which edges are back.
//
// Written here rather than taken from a library: the Go ones that lay
// out graphs either wrap Graphviz (go-graphviz ships it compiled to
// WebAssembly with a runtime, megabytes for a few boxes) or are
// single-author projects no longer kept; gonum's graph packages sort
// topologically but draw nothing. A layered layout of tens of jobs is
// this one function.
func layers(n int, edges [][2]int) (col []int, cols [][]int, back []bool) {
	out := make([][]int, n)
	for k, e := range edges {
		out[e[0]] = append(out[e[0]], k)
	}
	// Back edges: to a node still on the depth-first stack.
	back = make([]bool, len(edges))
	state := make([]int, n) // 0 new, 1 on the stack, 2 done
	var visit func(v int)
	visit = func(v int) {
		state[v] = 1
		for _, k := range out[v] {
			switch w := edges[k][1]; state[w] {
			case 0:
				visit(w)
			case 1:
				back[k] = true
			}
		}
		state[v] = 2
	}
	for v := range n {
		if state[v] == 0 {
			visit(v)
		}
	}
	// Columns: longest path over the forward edges (Kahn's order).
	indeg := make([]int, n)
	for k, e := range edges {
		if !back[k] {
			indeg[e[1]]++
		}
	}
	col = make([]int, n)
	queue := []int{}
	for v := range n {
		if indeg[v] == 0 {
			queue = append(queue, v)
		}
	}
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		for _, k := range out[v] {
			if back[k] {
				continue
			}
			w := edges[k][1]
			col[w] = max(col[w], col[v]+1)
			if indeg[w]--; indeg[w] == 0 {
				queue = append(queue, w)
			}
		}
	}
	last := 0
	for _, c := range col {
		last = max(last, c)
	}
	cols = make([][]int, last+1)
	for v := range n {
		cols[col[v]] = append(cols[col[v]], v)
	}
	// Order within columns by barycentre, sweeping right then left.
	pos := make([]float64, n)
	setPos := func() {
		for _, c := range cols {
			for i, v := range c {
				pos[v] = float64(i)
			}
		}
	}
	setPos()
	// sweep orders column c by the mean position of each node's
	// neighbours in column from.
	sweep := func(c, from int) {
		key := map[int]float64{}
		for _, v := range cols[c] {
			sum, cnt := 0.0, 0
			for k, e := range edges {
				var u int
				switch {
				case back[k]:
					continue
				case e[1] == v && col[e[0]] == from:
					u = e[0]
				case e[0] == v && col[e[1]] == from:
					u = e[1]
				default:
					continue
				}
				sum += pos[u]
				cnt++
			}
			key[v] = pos[v]
			if cnt > 0 {
				key[v] = sum / float64(cnt)
			}
		}
		sort.SliceStable(cols[c], func(i, j int) bool { return key[cols[c][i]] < key[cols[c][j]] })
		for i, v := range cols[c] {
			pos[v] = float64(i)
		}
	}
	for range 4 {
		for c := 1; c < len(cols); c++ {
			sweep(c, c-1)
		}
		for c := len(cols) - 2; c >= 0; c-- {
			sweep(c, c+1)
		}
	}
	return col, cols, back
}

// jobGraph draws jobs and the edges between them, left to right in the
// columns of layers: boxes named by job ref, edges drawn solid (on
// success), dashed (on failure) or dotted (freshness), each with an arrow
// and its kind written on it. archived names jobs that no longer run.
// "" when there are no edges.
func jobGraph(id string, edges []graphEdge, archived map[string]bool) string {
	if len(edges) == 0 {
		return ""
	}
	var refs []string
	index := map[string]int{}
	for _, e := range edges {
		for _, r := range []string{e.From, e.To} {
			if _, ok := index[r]; !ok {
				index[r] = -1
				refs = append(refs, r)
			}
		}
	}
	sort.Strings(refs)
	longest := 0
	for i, r := range refs {
		index[r] = i
		label := r
		if archived[r] {
			label += " (archived)"
		}
		longest = max(longest, len([]rune(label)))
	}
	pairs := make([][2]int, len(edges))
	for k, e := range edges {
		pairs[k] = [2]int{index[e.From], index[e.To]}
	}
	_, cols, back := layers(len(refs), pairs)

	const nodeH, gapX, gapY, pad, charW = 34.0, 110.0, 26.0, 8.0, 7.9
	nodeW := math.Min(math.Max(float64(longest)*charW+24, 130), 330)
	maxChars := int((nodeW - 24) / charW)
	tallest := 0
	for _, c := range cols {
		tallest = max(tallest, len(c))
	}
	colH := func(c int) float64 { return float64(len(cols[c]))*(nodeH+gapY) - gapY }
	height := float64(tallest)*(nodeH+gapY) - gapY
	// Edges that close a cycle run back through channels under the boxes,
	// leaving a job's left side low and coming into the other's the same
	// way; the left margin makes room for their turns.
	channel, nBack := make([]int, len(edges)), 0
	for k := range edges {
		if back[k] {
			channel[k] = nBack
			nBack++
		}
	}
	left := pad
	if nBack > 0 {
		left += 26 + 4*float64(nBack)
	}
	x := make([]float64, len(refs))
	y := make([]float64, len(refs))
	for c, vs := range cols {
		for i, v := range vs {
			x[v] = left + float64(c)*(nodeW+gapX)
			y[v] = pad + (height-colH(c))/2 + float64(i)*(nodeH+gapY)
		}
	}
	w := left + pad + float64(len(cols))*nodeW + float64(len(cols)-1)*gapX
	h := 2*pad + height
	if nBack > 0 {
		h += 34 + 8*float64(nBack)
	}
	sentences := make([]string, len(edges))
	for k, e := range edges {
		sentences[k] = edgeSentence(e)
	}
	desc := fmt.Sprintf("%d jobs in %d columns, left to right: each job stands right of the jobs it follows or waits for. %s.",
		len(refs), len(cols), strings.Join(sentences, ". "))
	for _, r := range refs {
		if archived[r] {
			desc += " " + r + " is archived."
		}
	}
	var b strings.Builder
	svgOpen(&b, id, w, h, "Which job follows which", desc)
	b.WriteString(`<defs>`)
	for _, kind := range []string{edgeSuccess, edgeFail, edgeFresh} {
		fmt.Fprintf(&b, `<marker id="%s-arrow-%s" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path class="arrow-%s" d="M0 0 10 5 0 10z"/></marker>`, id, kind, kind)
	}
	b.WriteString(`</defs>`)
	// Edges between the same two jobs are drawn side by side.
	nth, of := make([]int, len(edges)), map[[2]int]int{}
	for k, p := range pairs {
		nth[k] = of[p]
		of[p]++
	}
	var labels strings.Builder
	for k, e := range edges {
		u, v := pairs[k][0], pairs[k][1]
		shift := (float64(nth[k]) - float64(of[pairs[k]]-1)/2) * 8
		if back[k] {
			ci := float64(channel[k])
			sy, ty := y[u]+nodeH-6, y[v]+nodeH-6
			sx, tx := x[u]-14-4*ci, x[v]-22-4*ci
			cy := pad + height + 16 + 8*ci
			fmt.Fprintf(&b, `<path class="edge edge-%s" d="M%s %sH%sV%sH%sV%sH%s" marker-end="url(#%s-arrow-%s)"><title>%s</title></path>`,
				e.Kind, num(x[u]), num(sy), num(sx), num(cy), num(tx), num(ty), num(x[v]-3), id, e.Kind, html(sentences[k]))
			fmt.Fprintf(&labels, `<text class="elabel" x="%s" y="%s" text-anchor="middle">%s</text>`, num((sx+tx)/2), num(cy+13), edgeLabel(e.Kind))
			continue
		}
		// A forward edge: a curve from the right side of one box to the
		// left side of the other, its label above its middle (t = 1/2 of
		// the Bézier).
		p0 := [2]float64{x[u] + nodeW, y[u] + nodeH/2 + shift}
		p3 := [2]float64{x[v] - 3, y[v] + nodeH/2 + shift}
		mid := (p0[0] + p3[0]) / 2
		p1, p2 := [2]float64{mid, p0[1]}, [2]float64{mid, p3[1]}
		fmt.Fprintf(&b, `<path class="edge edge-%s" d="M%s %sC%s %s %s %s %s %s" marker-end="url(#%s-arrow-%s)"><title>%s</title></path>`,
			e.Kind, num(p0[0]), num(p0[1]), num(p1[0]), num(p1[1]), num(p2[0]), num(p2[1]), num(p3[0]), num(p3[1]), id, e.Kind, html(sentences[k]))
		lx := (p0[0] + 3*p1[0] + 3*p2[0] + p3[0]) / 8
		ly := (p0[1]+3*p1[1]+3*p2[1]+p3[1])/8 - 7 + shift*1.5
		fmt.Fprintf(&labels, `<text class="elabel" x="%s" y="%s" text-anchor="middle">%s</text>`, num(lx), num(ly), edgeLabel(e.Kind))
	}
	for v, r := range refs {
		class, label := "node", r
		if archived[r] {
			class, label = "node archived", r+" (archived)"
		}
		fmt.Fprintf(&b, `<g class="%s"><title>%s</title><rect x="%s" y="%s" width="%s" height="%s" rx="6"/><text x="%s" y="%s" text-anchor="middle">%s</text></g>`,
			class, html(label), num(x[v]), num(y[v]), num(nodeW), num(nodeH), num(x[v]+nodeW/2), num(y[v]+nodeH/2+4.5), html(clip(label, maxChars)))
	}
	b.WriteString(labels.String()) // over the edges and boxes
	b.WriteString(`</svg>`)
	return b.String()
}

// edgeLegend says which line is which kind of edge, for the kinds drawn.
func edgeLegend(edges []graphEdge) string {
	seen := map[string]bool{}
	for _, e := range edges {
		seen[e.Kind] = true
	}
	var b strings.Builder
	b.WriteString(`<ul class="legend" aria-hidden="true">`)
	for _, kind := range []string{edgeSuccess, edgeFail, edgeFresh} {
		if !seen[kind] {
			continue
		}
		words := map[string]string{
			edgeSuccess: "on success: the job the arrow points to runs after the other succeeds",
			edgeFail:    "on failure: it runs after the other fails",
			edgeFresh:   "fresh: it waits until the other is fresh",
		}[kind]
		fmt.Fprintf(&b, `<li><svg width="30" height="10" viewBox="0 0 30 10"><path class="edge edge-%s" d="M1 5H29"/></svg>%s</li>`, kind, words)
	}
	b.WriteString(`</ul>`)
	return b.String()
}
