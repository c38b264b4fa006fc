package server

// Issue 15, part 2: the job page and the pictures, and every page at
// 375 px wide and with the keyboard, in headless Chromium.

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/dlthub/dlthub/internal/browsertest"
	"github.com/dlthub/dlthub/internal/store"
)

// picture is an SVG of a page as assistive technology meets it: its role
// and the text of what labels it.
type picture struct {
	Found bool   `json:"found"`
	Role  string `json:"role"`
	Label string `json:"label"` // the text of the aria-labelledby elements
	Title string `json:"title"` // the <title> child's
	Desc  string `json:"desc"`  // the <desc> child's
}

// readPicture reads the SVG with the id: role, the texts aria-labelledby
// points at (each id must name an element inside the SVG) and its
// <title> and <desc>.
func readPicture(t *testing.T, tab *browsertest.Tab, id string) picture {
	t.Helper()
	return browsertest.Run(tab, "read the picture #"+id, chromedp.Evaluate[picture](`(() => {
		const svg = document.getElementById(`+jsString(id)+`);
		if (!svg || svg.tagName.toLowerCase() !== "svg") return {found: false};
		const ids = (svg.getAttribute("aria-labelledby") || "").split(/\s+/).filter(Boolean);
		const label = ids.map(i => { const e = document.getElementById(i); return e && svg.contains(e) ? e.textContent : "MISSING " + i; }).join(" | ");
		const t = svg.querySelector(":scope > title"), d = svg.querySelector(":scope > desc");
		return {found: true, role: svg.getAttribute("role") || "", label,
			title: t ? t.textContent : "", desc: d ? d.textContent : ""};
	})()`))
}

// jsString quotes s for a JavaScript expression.
func jsString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

// checkPicture fails the test unless the picture is there as an image
// labelled by its title and described by its desc, which holds each of
// want.
func checkPicture(t *testing.T, tab *browsertest.Tab, id string, want ...string) picture {
	t.Helper()
	p := readPicture(t, tab, id)
	switch {
	case !p.Found:
		t.Errorf("no picture #%s", id)
	case p.Role != "img" || p.Title == "" || p.Desc == "" || p.Label != p.Title+" | "+p.Desc:
		t.Errorf("picture #%s has no text alternative: %+v", id, p)
	}
	for _, w := range want {
		if !strings.Contains(p.Desc, w) {
			t.Errorf("picture #%s: its description lacks %q: %s", id, w, p.Desc)
		}
	}
	return p
}

// focusStop is the element the keyboard focus is on, and whether a
// person can see it: it is in view with the pages' focus ring.
type focusStop struct {
	Tag     string `json:"tag"`
	Text    string `json:"text"`
	Ring    string `json:"ring"`
	InView  bool   `json:"inView"`
	IsFocus bool   `json:"isFocus"`
}

const focusJS = `(() => {
	const e = document.activeElement, cs = getComputedStyle(e), r = e.getBoundingClientRect();
	return {tag: e.tagName.toLowerCase(), text: (e.getAttribute("aria-label") || e.innerText || e.value || "").trim().split("\n")[0],
		ring: cs.outlineStyle + " " + cs.outlineWidth + " " + cs.outlineColor,
		inView: r.width > 0 && r.height > 0 && r.bottom > 0 && r.top < innerHeight && r.right > 0 && r.left < innerWidth,
		isFocus: e.matches(":focus-visible")};
})()`

// pageRing is the focus ring pageCSS draws (:focus-visible), as
// getComputedStyle reports it: Chromium's own ring is "auto", so a page
// that lost the rule fails.
const pageRing = "solid 3px rgb(26, 86, 219)"

// tabThrough presses Tab n times from the top of the page and answers
// where the focus went each time.
func tabThrough(t *testing.T, tab *browsertest.Tab, n int) []focusStop {
	t.Helper()
	stops := make([]focusStop, 0, n)
	for range n {
		tab.Do("press Tab", chromedp.KeyEvent(kb.Tab))
		stops = append(stops, browsertest.Run(tab, "the focused element", chromedp.Evaluate[focusStop](focusJS)))
	}
	return stops
}

// checkFocusVisible fails the test for each stop a person could not see.
func checkFocusVisible(t *testing.T, where string, stops []focusStop) {
	t.Helper()
	for i, s := range stops {
		if s.Ring != pageRing || !s.InView || !s.IsFocus {
			t.Errorf("%s: Tab %d reaches %s %q without a visible focus ring: %+v", where, i+1, s.Tag, s.Text, s)
		}
	}
}

// unlabelledControlsJS lists the form controls of the page that have no
// name a screen reader could say: inputs, selects and text areas without
// a label (or aria-label), buttons without text.
const unlabelledControlsJS = `[...document.querySelectorAll("input:not([type=hidden]), select, textarea, button")].filter(e => {
	if (e.tagName === "BUTTON") return !(e.getAttribute("aria-label") || e.textContent).trim();
	const labels = [...(e.labels || [])].map(l => l.textContent).join(" ").trim();
	return !(labels || (e.getAttribute("aria-label") || "").trim());
}).map(e => e.outerHTML)`

// TestBrowserJobPage opens a job from the workspace page's graph and
// jobs list: the graph of follow-ups, then the job page with its spec,
// the pictures of its runs (each with its text alternative, outcomes told
// by shape as well as colour), the table of runs, and the keyboard
// reaching its links in order with the focus in view.
func TestBrowserJobPage(t *testing.T) {
	tm := newTeam(t)
	running := richWorkspace(t, tm)
	defer func() {
		_ = tm.server.cfg.Store.FinishRun(context.Background(), running.ID, store.RunCancelled, nil, "test over", time.Now())
	}()
	tab := browsertest.Start(t, 0).Tab()
	signIn(tab, tm.ts, "ann@acme.test", "pw-ann-123")
	open(tab, tm.ts+WorkspacePagePath(tm.analytics))

	// The workspace page draws which job follows which.
	checkPicture(t, tab, "jobs-graph", "jobs.transform.daily runs after jobs.ingest.github succeeds")
	boxes := browsertest.Run(tab, "the graph's boxes", chromedp.Evaluate[[]string](`[...document.querySelectorAll("#jobs-graph .node text")].map(t => t.textContent)`))
	if strings.Join(boxes, " ") != "jobs.ingest.github jobs.transform.daily" {
		t.Errorf("graph boxes %q", boxes)
	}
	// Left to right: the follower stands right of the job it follows, the
	// edge says its kind in words.
	xs := browsertest.Run(tab, "box positions", chromedp.Evaluate[[]float64](`[...document.querySelectorAll("#jobs-graph .node rect")].map(r => +r.getAttribute("x"))`))
	if len(xs) != 2 || xs[0] >= xs[1] {
		t.Errorf("graph columns %v", xs)
	}
	if got := browsertest.Run(tab, "edge labels", chromedp.Evaluate[[]string](`[...document.querySelectorAll("#jobs-graph .elabel")].map(t => t.textContent)`)); strings.Join(got, ",") != "on success" {
		t.Errorf("edge labels %q", got)
	}
	tab.Screenshot("jobs-graph", `#jobs figure`)

	tab.Do("open the job from the jobs list", chromedp.Click(chromedp.CSS(`#jobs table a[href="`+JobPagePath(tm.analytics, "jobs.ingest.github")+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#durations`)))
	if h := tab.Text(`h1`); h != "jobs.ingest.github" {
		t.Errorf("job page title %q", h)
	}
	spec := browsertest.Run(tab, "the spec", chromedp.Evaluate[string](`document.querySelector("dl.spec").innerText`))
	for _, want := range []string{"active", "python github_pipeline.py", "schedule:0 * * * *", "jobs.transform.daily · runs after this job succeeds"} {
		if !strings.Contains(spec, want) {
			t.Errorf("spec lacks %q:\n%s", want, spec)
		}
	}

	// Durations: a bar per run, oldest first; the failed run's marker is
	// a cross, not only red; the running run is drawn too.
	checkPicture(t, tab, "durations-chart", "5 runs", "3 completed, 1 failed", "1 running", "Run #3 failed after 54 s")
	runs := browsertest.Run(tab, "runs in the picture", chromedp.Evaluate[[]string](`[...document.querySelectorAll("#durations-chart g.run")].map(g => g.querySelector("title").textContent)`))
	if len(runs) != 5 || !strings.HasPrefix(runs[0], "Run #1 completed after 40 s") || !strings.HasPrefix(runs[4], "Run #5 running, running for") {
		t.Errorf("runs in the durations picture: %q", runs)
	}
	shapes := browsertest.Run(tab, "marker shapes", chromedp.Evaluate[[]string](`[...document.querySelectorAll("#durations-chart g.run > g")].map(g => g.getAttribute("class") + ":" + g.firstElementChild.tagName)`))
	if want := "st-completed:circle st-completed:circle st-failed:path st-completed:circle st-running:path"; strings.Join(shapes, " ") != want {
		t.Errorf("markers %q, want %s", shapes, want)
	}
	heights := browsertest.Run(tab, "bar heights", chromedp.Evaluate[[]float64](`[...document.querySelectorAll("#durations-chart g.run > rect")].map(r => +r.getAttribute("height"))`))
	if len(heights) != 5 || !(heights[0] < heights[1] && heights[1] < heights[2]) {
		t.Errorf("bars do not grow with the durations (40, 47, 54 s): %v", heights)
	}
	// Oldest on the left, and a run's bars in the rows picture stand
	// under its bar here.
	barX := browsertest.Run(tab, "bar places", chromedp.Evaluate[[]float64](`[...document.querySelectorAll("#durations-chart g.run > rect")].map(r => +r.getAttribute("x"))`))
	rowX := browsertest.Run(tab, "rows bar places", chromedp.Evaluate[[]float64](`[...document.querySelector("#rows-chart g.strip").querySelectorAll("rect")].map(r => +r.getAttribute("x"))`))
	for i := 1; i < len(barX); i++ {
		if barX[i] <= barX[i-1] {
			t.Errorf("bars not in time order, left to right: %v", barX)
		}
	}
	if len(barX) != 5 || len(rowX) != 4 || fmt.Sprint(rowX) != fmt.Sprint(barX[:4]) {
		t.Errorf("rows bars %v do not line up with the duration bars %v", rowX, barX)
	}
	legend := browsertest.Run(tab, "legend", chromedp.Evaluate[string](`document.querySelector("#durations .legend").innerText`))
	if strings.Join(strings.Fields(legend), " ") != "completed failed running" {
		t.Errorf("legend %q", legend)
	}

	// Rows: a strip per table, largest first, a bar per run that loaded.
	checkPicture(t, tab, "rows-chart", "issues: 120 to 213 rows per run", "comments: 610 to 874")
	// comments grew 610, 698, 786, 874 rows: so do its bars, the largest
	// filling the strip.
	rowH := browsertest.Run(tab, "rows bar heights", chromedp.Evaluate[[]float64](`[...document.querySelector("#rows-chart g.strip").querySelectorAll("rect")].map(r => +r.getAttribute("height"))`))
	if len(rowH) != 4 || !(rowH[0] < rowH[1] && rowH[1] < rowH[2] && rowH[2] < rowH[3]) || rowH[3] != 28 || rowH[0] < 28*0.69 || rowH[0] > 28*0.7 {
		t.Errorf("rows bars of comments: %v, want growing as 610…874 rows (0.698 to 1 of 28)", rowH)
	}
	strips := browsertest.Run(tab, "strips", chromedp.Evaluate[[]string](`[...document.querySelectorAll("#rows-chart g.strip")].map(g => g.querySelector("text").textContent + "=" + g.querySelectorAll("rect").length)`))
	if want := "comments=4 issues=4 pull_requests=4"; strings.Join(strings.Fields(strings.Join(strips, " ")), " ") != want {
		t.Errorf("strips %q, want %s", strips, want)
	}

	// The runs table, newest first, links each run.
	rows := browsertest.Run(tab, "runs table", chromedp.Evaluate[[]string](`[...document.querySelectorAll("#runs tbody tr")].map(r => r.innerText.replace(/\t/g, " | "))`))
	if len(rows) != 5 || !strings.HasPrefix(rows[0], "#5 | running | manual:jobs.ingest.github") || !strings.Contains(rows[2], "#3 | failed") || !strings.HasSuffix(rows[4], "| 40 s | 770") {
		t.Errorf("runs table:\n%s", strings.Join(rows, "\n"))
	}
	tab.Screenshot("job", "")

	// The keyboard: from the top, Tab reaches the skip link, the trail,
	// the follower, the rows table and the runs, in that order, each
	// with the focus ring in view.
	open(tab, tm.ts+JobPagePath(tm.analytics, "jobs.ingest.github"))
	stops := tabThrough(t, tab, 10)
	var texts []string
	for _, s := range stops {
		texts = append(texts, s.Text)
	}
	if want := "Skip to the content|dlthub|analytics|jobs.transform.daily|The rows as a table|#5|#4|#3|#2|#1"; strings.Join(texts, "|") != want {
		t.Errorf("Tab order:\n %s\nwant\n %s", strings.Join(texts, "|"), want)
	}
	checkFocusVisible(t, "job page", stops)
	// The skip link takes the focus past the trail to the content.
	open(tab, tm.ts+JobPagePath(tm.analytics, "jobs.ingest.github"))
	tab.Do("skip to the content", chromedp.KeyEvent(kb.Tab), chromedp.KeyEvent(kb.Enter))
	if got := browsertest.Run(tab, "focus after the skip link", chromedp.Evaluate[string](`document.activeElement.id`)); got != "main" {
		t.Errorf("the skip link left the focus on %q", got)
	}
	if next := tabThrough(t, tab, 1); next[0].Text != "jobs.transform.daily" {
		t.Errorf("after skipping, Tab reaches %q", next[0].Text)
	}

	// Another job: no follower, no rows; a job that does not exist is
	// not found.
	open(tab, tm.ts+JobPagePath(tm.analytics, "jobs.transform.daily"))
	if got := tab.Text(`#rows`); !strings.Contains(got, "None of these runs recorded rows loaded") {
		t.Errorf("rows of a job without rows: %q", got)
	}
	checkPicture(t, tab, "durations-chart", "3 runs", "3 completed", "typically 12 s")
	missing := JobPagePath(tm.analytics, "jobs.no.such")
	tab.Expect(http.StatusNotFound, missing)
	if code := open(tab, tm.ts+missing); code != http.StatusNotFound {
		t.Errorf("a job that does not exist: %d", code)
	}
}

// TestBrowserPagesFitNarrowScreens opens every page at 375×800, a small
// phone: none scrolls sideways, every form control has a label, and the
// first Tab reaches the skip link, visibly. The job page is kept as a
// screenshot at that width.
func TestBrowserPagesFitNarrowScreens(t *testing.T) {
	tm := newTeam(t)
	running := richWorkspace(t, tm)
	defer func() {
		_ = tm.server.cfg.Store.FinishRun(context.Background(), running.ID, store.RunCancelled, nil, "test over", time.Now())
	}()
	// A server without users offers the setup page.
	fresh, freshTS := newServer(t, nil)
	setup, ok, err := fresh.Bootstrap(context.Background())
	if err != nil || !ok || !strings.HasPrefix(setup, freshTS.URL) {
		t.Fatalf("bootstrap: %q %v %v", setup, ok, err)
	}
	code, inv := call(t, http.MethodPost, tm.ts+"/api/v1/organizations/"+tm.acme+"/members", tm.tokens["owner"], `{"email":"dora@acme.test"}`)
	invite, _ := inv["invite_url"].(string)
	if code != http.StatusCreated || invite == "" {
		t.Fatalf("invite: %d %v", code, inv)
	}

	b := browsertest.Start(t, 0)
	narrow := func(tab *browsertest.Tab) *browsertest.Tab {
		tab.Do("a 375 px wide screen", chromedp.EmulateViewport(375, 800))
		return tab
	}
	check := func(tab *browsertest.Tab, name, u string) {
		t.Helper()
		if code := open(tab, u); code != http.StatusOK {
			t.Errorf("%s: %d", name, code)
		}
		if w := browsertest.Run(tab, "page width", chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 375 {
			wide := browsertest.Run(tab, "what is wide", chromedp.Evaluate[[]string](`[...document.querySelectorAll("main *")].filter(e => e.getBoundingClientRect().right > 375).slice(0, 5).map(e => e.outerHTML.slice(0, 120))`))
			t.Errorf("%s is %d px wide at 375 px: it scrolls sideways; too wide: %q", name, w, wide)
		}
		if bad := browsertest.Run(tab, "unlabelled controls", chromedp.Evaluate[[]string](unlabelledControlsJS)); len(bad) > 0 {
			t.Errorf("%s: form controls without a label: %q", name, bad)
		}
		stop := tabThrough(t, tab, 1)
		if stop[0].Text != "Skip to the content" {
			t.Errorf("%s: the first Tab reaches %q, not the skip link", name, stop[0].Text)
		}
		checkFocusVisible(t, name, stop)
	}

	visitor := narrow(b.Incognito())
	check(visitor, "sign-in page", tm.ts+"/login")
	check(visitor, "setup page", setup)
	check(visitor, "invitation page", invite)
	check(visitor, "home, signed out", tm.ts+"/")

	// Signing in with the keyboard alone: past the skip link and the
	// trail to the email, the password, then Enter.
	tab := narrow(b.Tab())
	open(tab, tm.ts+"/login")
	stops := tabThrough(t, tab, 3)
	if stops[2].Tag != "input" {
		t.Fatalf("the third Tab reaches %+v, not the email field", stops[2])
	}
	checkFocusVisible(t, "sign-in form", stops)
	tab.Do("sign in with the keyboard", chromedp.KeyEvent("ann@acme.test"), chromedp.KeyEvent(kb.Tab), chromedp.KeyEvent("pw-ann-123"))
	if resp, err := chromedp.RunResponse(tab.Ctx, chromedp.KeyEvent(kb.Enter)); err != nil || resp.Status != http.StatusOK || !strings.HasSuffix(resp.URL, "/") {
		t.Fatalf("sign in with the keyboard: %v %v", resp, err)
	}
	check(tab, "home", tm.ts+"/")
	check(tab, "API keys page", tm.ts+"/api-keys")
	check(tab, "device approval page", tm.ts+"/device?user_code=BCDF-GHJK")
	check(tab, "workspace page", tm.ts+WorkspacePagePath(tm.analytics))
	check(tab, "run page", tm.ts+RunPagePath(tm.analytics, running.ID))
	check(tab, "job page", tm.ts+JobPagePath(tm.analytics, "jobs.ingest.github"))
	tab.Do("leave the skip link", chromedp.Evaluate[chromedp.Void](`document.activeElement.blur()`))
	tab.Screenshot("job-375", "")
	// The pictures shrink to the screen rather than widen the page.
	for _, id := range []string{"durations-chart", "rows-chart"} {
		if w := browsertest.Run(tab, "picture width", chromedp.Evaluate[float64](`document.getElementById("`+id+`").getBoundingClientRect().width`)); w <= 0 || w > 375 {
			t.Errorf("#%s is %v px wide at 375", id, w)
		}
	}
}
