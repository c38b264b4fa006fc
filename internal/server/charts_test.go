package server

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dlthub/dlthub/internal/store"
)

// wellFormed fails the test unless the SVG parses as XML (the browser
// would draw nothing, or half).
func wellFormed(t *testing.T, svg string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(svg))
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("not well-formed SVG: %v\n%s", err, svg)
		}
	}
}

func TestLayersPutsEachJobRightOfWhatItFollows(t *testing.T) {
	// a → b → d, a → c → d, a → d: d waits for the longest path.
	col, cols, back := layers(4, [][2]int{{0, 1}, {1, 3}, {0, 2}, {2, 3}, {0, 3}})
	if fmt.Sprint(col) != "[0 1 1 2]" || len(cols) != 3 {
		t.Errorf("columns %v %v", col, cols)
	}
	for k, b := range back {
		if b {
			t.Errorf("edge %d taken for a cycle", k)
		}
	}
}

func TestLayersBreaksCycles(t *testing.T) {
	// a → b on success, b → a on failure; c → c on itself.
	col, _, back := layers(3, [][2]int{{0, 1}, {1, 0}, {2, 2}})
	if fmt.Sprint(col) != "[0 1 0]" || fmt.Sprint(back) != "[false true true]" {
		t.Errorf("columns %v, back edges %v", col, back)
	}
}

func TestLayersOrdersColumnsToAvoidCrossings(t *testing.T) {
	// a and b in the first column; a → d, b → c. Ordered by name, c above
	// d would cross the edges; by their parents, d goes above c.
	_, cols, _ := layers(4, [][2]int{{0, 3}, {1, 2}})
	if fmt.Sprint(cols) != "[[0 1] [3 2]]" {
		t.Errorf("columns %v, want [[0 1] [3 2]]", cols)
	}
}

func TestJobEdgesFromSpecs(t *testing.T) {
	spec := func(triggers []string, fresh ...string) string {
		b, _ := json.Marshal(map[string]any{"type": "batch", "triggers": triggers, "freshness": fresh})
		return string(b)
	}
	list := []store.Job{
		{Ref: "jobs.a.up", Active: true, Spec: spec([]string{"schedule:0 * * * *"})},
		{Ref: "jobs.b.next", Active: true, Spec: spec([]string{"job.success:jobs.a.up", "job.fail:jobs.a.up", "job.success:jobs.gone.away"}, "jobs.a.up")},
		{Ref: "jobs.c.old", Active: false, Spec: spec([]string{"job.success:jobs.a.up"})},
		{Ref: "jobs.d.late", Active: true, Spec: spec([]string{"job.success:jobs.c.old"})},
		{Ref: "jobs.e.broken", Active: true, Spec: "{"},
	}
	edges, archived := jobEdges(list)
	var got []string
	for _, e := range edges {
		got = append(got, e.From+">"+e.To+":"+e.Kind)
	}
	// An archived job triggers nothing, but what follows it still shows;
	// a job that is not there is no edge.
	if want := "jobs.a.up>jobs.b.next:success jobs.a.up>jobs.b.next:fail jobs.a.up>jobs.b.next:fresh jobs.c.old>jobs.d.late:success"; strings.Join(got, " ") != want {
		t.Errorf("edges\n %s\nwant\n %s", strings.Join(got, " "), want)
	}
	if !archived["jobs.c.old"] || archived["jobs.a.up"] {
		t.Errorf("archived %v", archived)
	}
	svg := jobGraph("g", edges, archived)
	wellFormed(t, svg)
	for _, want := range []string{`role="img"`, `aria-labelledby="g-title g-desc"`, "jobs.b.next runs after jobs.a.up fails", "jobs.b.next waits until jobs.a.up is fresh",
		"jobs.c.old is archived.", `class="node archived"`, `>on failure</text>`, `marker-end="url(#g-arrow-fresh)"`} {
		if !strings.Contains(svg, want) {
			t.Errorf("graph lacks %q", want)
		}
	}
	if jobGraph("g", nil, nil) != "" {
		t.Error("a graph without edges")
	}
}

func TestJobGraphDrawsCyclesBackUnderTheBoxes(t *testing.T) {
	svg := jobGraph("g", []graphEdge{{"jobs.a.x", "jobs.b.y", edgeSuccess}, {"jobs.b.y", "jobs.a.x", edgeFail}}, nil)
	wellFormed(t, svg)
	// The edge back runs straight (H, V) through the channel under the
	// boxes; the forward one is a curve (C).
	d := func(kind string) string {
		m := regexp.MustCompile(`class="edge edge-` + kind + `" d="([^"]+)"`).FindStringSubmatch(svg)
		if m == nil {
			t.Fatalf("no %s edge:\n%s", kind, svg)
		}
		return m[1]
	}
	if back := d(edgeFail); strings.Contains(back, "C") || strings.Count(back, "V") != 2 {
		t.Errorf("the edge back: %s", back)
	}
	if fwd := d(edgeSuccess); !strings.Contains(fwd, "C") {
		t.Errorf("the edge forward: %s", fwd)
	}
}

func TestDurationChart(t *testing.T) {
	at := time.Date(2025, 5, 1, 9, 0, 0, 0, time.UTC)
	runs := []chartRun{
		{Number: 1, Status: store.RunCompleted, At: at, Took: 40 * time.Second, Timed: true},
		{Number: 2, Status: store.RunFailed, At: at.Add(time.Hour), Took: 90 * time.Second, Timed: true},
		{Number: 3, Status: store.RunCancelled, At: at.Add(2 * time.Hour), Took: 0, Timed: true},
		{Number: 4, Status: store.RunPending, At: at.Add(3 * time.Hour)},
	}
	svg := durationChart("d", runs)
	wellFormed(t, svg)
	for _, want := range []string{
		"Bars for the last 4 runs, oldest first, from #1 (2025-05-01 09:00 UTC) to #4 (2025-05-01 12:00 UTC): 1 completed, 1 failed, 1 cancelled, 1 pending.",
		"Ended runs took from 0 s to 1 min 30 s, typically 40 s.", "Run #2 failed after 1 min 30 s, started 2025-05-01 10:00 UTC.",
		`<title>Run #4 pending, queued 2025-05-01 12:00 UTC</title>`,
		`>30 s</text>`, `>90 s</text>`, // the axis reaches the longest run in round steps
	} {
		if !strings.Contains(svg, want) {
			t.Errorf("duration chart lacks %q:\n%s", want, svg)
		}
	}
	// Three bars (the pending run has only its marker), the cancelled run
	// of no time still visible.
	if n := strings.Count(svg, "<rect class="); n != 3 {
		t.Errorf("%d bars, want 3", n)
	}
	if strings.Contains(svg, `height="0"`) {
		t.Error("a bar of no height")
	}
	// Many failures: the latest five are told, the rest counted.
	var failing []chartRun
	for i := range 8 {
		failing = append(failing, chartRun{Number: i + 1, Status: store.RunFailed, At: at, Took: time.Second, Timed: true})
	}
	desc := durationDesc(failing)
	if !strings.Contains(desc, "Run #8 failed") || !strings.Contains(desc, "Run #4 failed") || strings.Contains(desc, "Run #3 failed") || !strings.HasSuffix(desc, " 3 earlier runs failed too.") {
		t.Errorf("description of many failures: %s", desc)
	}
	if durationChart("d", nil) != "" {
		t.Error("a chart of no runs")
	}
	legend := outcomeLegend(runs)
	for _, o := range []string{"completed", "failed", "cancelled", "pending"} {
		if !strings.Contains(legend, `class="st-`+o+`"`) || !strings.Contains(legend, "</svg>"+o+"</li>") {
			t.Errorf("legend lacks %s: %s", o, legend)
		}
	}
	if strings.Contains(legend, "running") {
		t.Errorf("legend names an outcome the chart lacks: %s", legend)
	}
}

func TestRowsChart(t *testing.T) {
	var runs []chartRun
	for i := range 12 {
		rows := map[string]int64{}
		for k := range 10 {
			rows[fmt.Sprintf("t%02d", k)] = int64((k + 1) * (i + 1))
		}
		if i == 5 {
			rows = nil // a failed run loads nothing
		}
		runs = append(runs, chartRun{Number: i + 1, Status: store.RunCompleted, Rows: rows})
	}
	svg := rowsChart("r", runs)
	wellFormed(t, svg)
	// The 8 largest tables are drawn, the 2 smallest named.
	if n := strings.Count(svg, `<g class="strip">`); n != rowsChartTables {
		t.Errorf("%d strips", n)
	}
	if n := strings.Count(svg, `class="bar-rows"`); n != rowsChartTables*11 {
		t.Errorf("%d bars, want %d", n, rowsChartTables*11)
	}
	for _, want := range []string{"11 of the last 12 runs recorded rows loaded, into 10 tables", "Not drawn, with fewer rows: t01, t00.",
		"t09: 10 to 120 rows per run, 120 in run #12.", ">most 120</text>", "<title>Run #12: 120 rows into t09</title>"} {
		if !strings.Contains(svg, want) {
			t.Errorf("rows chart lacks %q", want)
		}
	}
	if rowsChart("r", []chartRun{{Number: 1}}) != "" {
		t.Error("a rows chart without rows")
	}
}

func TestDurationWords(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{{0, "0 s"}, {47 * time.Second, "47 s"}, {61 * time.Second, "1 min 1 s"}, {3 * time.Minute, "3 min"}, {2*time.Hour + 10*time.Minute, "2 h 10 min"}, {5 * time.Hour, "5 h"}} {
		if got := humanDuration(c.d); got != c.want {
			t.Errorf("humanDuration(%s) = %q, want %q", c.d, got, c.want)
		}
	}
	for _, c := range []struct {
		d, want time.Duration
	}{{time.Second / 2, time.Second}, {16 * time.Second, 20 * time.Second}, {7 * time.Minute, 10 * time.Minute}, {40 * time.Hour, 48 * time.Hour}} {
		if got := durationStep(c.d); got != c.want {
			t.Errorf("durationStep(%s) = %s, want %s", c.d, got, c.want)
		}
	}
}
