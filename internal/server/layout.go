package server

import (
	"net/http"
	"strings"
)

// pageCSS is the style of every control-plane page, inline in each: the
// pages need no stylesheet to serve and stay legible however they are
// reached. They fit 375 px wide: narrow screens get less padding, and
// tables sit in .scroll boxes, so a wide table scrolls inside its box
// while the page does not. The focus ring is drawn by :focus-visible, so
// keyboard users always see where they are. Every colour is a hex literal
// in a rule of its own kind (text on a background, a mark in a picture),
// so contrast_test.go can parse the pairs and hold them to WCAG AA: 4.5:1
// for text, 3:1 for the marks of a picture and the focus ring.
const pageCSS = `body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
a{color:#1a4fb5}
a:hover{color:#0f2f6b}
:focus-visible{outline:3px solid #1a56db;outline-offset:2px}
main:focus{outline:none}
.skip{position:absolute;left:.5rem;top:-4rem;padding:.5rem .9rem;background:#1d2330;color:#ffffff;border-radius:0 0 4px 4px;z-index:2}
.skip:focus{top:0}
.crumbs{max-width:52rem;margin:0 auto;padding:.9rem 2rem 0}
.crumbs ol{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.1rem .5rem}
.crumbs li{overflow-wrap:anywhere}
.crumbs li+li::before{content:"›";margin-right:.5rem;color:#4a5363}
main{display:block;max-width:52rem;margin:1rem auto 4rem;padding:2rem;background:#ffffff;border-radius:8px;box-shadow:0 1px 4px #0002}
h1{font-size:1.4rem;margin-top:0;overflow-wrap:anywhere}
h2{font-size:1.15rem;margin:1.8rem 0 .6rem}
label{display:block;margin:.6rem 0}
input{display:block;width:100%;box-sizing:border-box;padding:.45rem;font:inherit;border:1px solid #767f8c;border-radius:4px}
select{display:block;max-width:100%;padding:.4rem;font:inherit;border:1px solid #767f8c;border-radius:4px}
button{margin:.8rem .4rem 0 0;padding:.5rem 1rem;font:inherit;cursor:pointer;border:1px solid #767f8c;border-radius:4px;background:#eef0f3;color:#1d2330}
td button{margin:0}
table{border-collapse:collapse;width:100%}
.scroll{position:relative;overflow-x:auto;margin:.4rem 0}
td,th{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #e3e6ea;vertical-align:top}
code{background:#eef0f3;padding:.1rem .3rem;border-radius:3px}
p code,dd code{overflow-wrap:anywhere}
[hidden]{display:none!important}
.hint{color:#4a5363;font-size:.9rem}
.visually-hidden{position:absolute!important;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip-path:inset(50%);white-space:nowrap;border:0}
.status{display:inline-block;padding:0 .45rem;border-radius:3px;font-weight:600;background:#eef0f3;color:#1d2330}
.status-running,.status-starting{background:#dbe7fb;color:#173a7a}
.status-completed,.status-active{background:#dcf1e2;color:#14532d}
.status-failed{background:#fbe0e0;color:#7a1c1c}
.status-cancelled,.status-cancelling,.status-skipped{background:#f1ece0;color:#5b4612}
.log{background:#14171c;color:#e8eaed;padding:.5rem 0;overflow:auto;max-height:70vh;border-radius:6px;font:13px/1.5 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.log .line{display:flex;gap:.6rem;padding:0 .8rem;white-space:pre-wrap;overflow-wrap:anywhere}
.log time{flex:none;color:#9aa3ad}
.log .text{flex:1}
.log .stderr{background:#3b1f22;color:#ffdcdc}
.mark{display:inline-block;flex:none;align-self:flex-start;padding:0 .3rem;border-radius:3px;background:#ffb4b4;color:#3b0a0a;font:600 11px/1.7 ui-monospace,monospace}
.spec{display:grid;grid-template-columns:max-content 1fr;gap:.35rem 1.2rem;margin:0}
.spec dt{font-weight:600}
.spec dd{margin:0;overflow-wrap:anywhere}
.spec ul{margin:0;padding-left:1.1rem}
figure{margin:1rem 0 1.4rem}
figcaption{font-size:.9rem;color:#4a5363;margin-bottom:.4rem}
.chart{display:block;max-width:100%;height:auto;overflow:visible}
.chart text{fill:#4a5363;font:12px system-ui,sans-serif}
.chart .axis{stroke:#767f8c;stroke-width:1}
.chart .grid{stroke:#e3e6ea;stroke-width:1}
.chart .node rect{fill:#ffffff;stroke:#1d2330;stroke-width:1.5}
.chart .node.archived rect{stroke-dasharray:5 3}
.chart .node text{fill:#1d2330;font:13px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.chart .elabel{fill:#1d2330;font-size:11px;paint-order:stroke;stroke:#ffffff;stroke-width:4px;stroke-linejoin:round}
.chart .bar-rows{fill:#1f5fbf}
.edge{fill:none;stroke-width:2}
.edge-success{stroke:#1e7b3c}
.edge-fail{stroke:#c0262d;stroke-dasharray:7 4}
.edge-fresh{stroke:#5f6773;stroke-dasharray:2 3}
.arrow-success{fill:#1e7b3c}
.arrow-fail{fill:#c0262d}
.arrow-fresh{fill:#5f6773}
.st-completed{fill:#1e7b3c}
.st-failed{fill:#c0262d}
.st-cancelled{fill:#8a5a00}
.st-skipped{fill:#5f6773}
.st-running{fill:#1f5fbf}
.st-pending{fill:none;stroke:#5f6773;stroke-width:2}
.legend{list-style:none;margin:.3rem 0 0;padding:0;display:flex;flex-wrap:wrap;gap:.2rem 1.1rem;font-size:.9rem}
.legend svg{vertical-align:-2px;margin-right:.35rem}
details{margin:.6rem 0}
summary{cursor:pointer;color:#1a4fb5}
@media (max-width:40rem){
main{margin:0 0 2rem;padding:1rem;border-radius:0;box-shadow:none}
.crumbs{padding:.7rem 1rem 0}
td,th{padding:.25rem .4rem;white-space:nowrap}
.spec{grid-template-columns:1fr;gap:0}
.spec dd{margin-bottom:.5rem}
}`

// crumb is one step of a page's breadcrumb trail: where the page sits
// (organization's workspace, job, run), each step a link back up.
type crumb struct {
	text, href string
}

// homeCrumb is the first step of every trail: the list of workspaces.
func homeCrumb() crumb { return crumb{text: "dlthub", href: "/"} }

// page writes an HTML page whose trail is home, then the page.
func page(w http.ResponseWriter, status int, title, body string) {
	pageIn(w, status, title, []crumb{homeCrumb()}, body)
}

// pageIn writes an HTML page: a skip link (keyboard users jump past the
// trail to the content), the breadcrumb trail (each step a link; the page
// itself ends it, marked aria-current), then the content under its title.
// Its icon is empty and inline: browsers ask for /favicon.ico otherwise,
// which this server does not have.
func pageIn(w http.ResponseWriter, status int, title string, trail []crumb, body string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	var b strings.Builder
	b.WriteString(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,"><title>`)
	b.WriteString(html(title) + ` · dlthub</title><style>` + pageCSS + `</style></head><body>`)
	b.WriteString(`<a class="skip" href="#main">Skip to the content</a>`)
	b.WriteString(`<nav class="crumbs" aria-label="Breadcrumb"><ol>`)
	for _, c := range trail {
		b.WriteString(`<li><a href="` + html(c.href) + `">` + html(c.text) + `</a></li>`)
	}
	b.WriteString(`<li aria-current="page">` + html(title) + `</li></ol></nav>`)
	b.WriteString(`<main id="main" tabindex="-1"><h1>` + html(title) + `</h1>` + body + `</main></body></html>`)
	_, _ = w.Write([]byte(b.String()))
}
