// Package browsertest opens the server's pages in a real browser: Debian's
// Chromium (`make setup` installs it), headless, driven over the DevTools
// protocol by chromedp. No browser is downloaded. Without Chromium a test
// is skipped with the command that installs it; under CI it fails, so a
// missing setup step cannot pass as green.
//
// Every tab records what a person would see as broken: JavaScript
// exceptions, console errors (CSP violations among them), requests that
// failed and responses of 400 and up that the test did not announce with
// Expect. The test fails on any of them when it ends.
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// DefaultTimeout bounds one test's browser: when it passes, the browser is
// stopped and every action fails, instead of the test hanging until go
// test's own timeout.
const DefaultTimeout = 90 * time.Second

// EnvChromium names the browser to use instead of the one on PATH.
const EnvChromium = "DLTHUB_CHROMIUM"

// EnvScreenshots is the folder Screenshot writes to; unset, it writes
// nothing. A relative folder is taken from the module's root (where
// go.mod is), so `make screenshots` can say docs/screenshots.
const EnvScreenshots = "DLTHUB_SCREENSHOTS"

// errNoChromium is LookPath's answer on a machine without Chromium.
var errNoChromium = errors.New("no Chromium on PATH: run `make setup` (it installs Debian's chromium) or set " + EnvChromium)

// LookPath finds the Chromium to run: $DLTHUB_CHROMIUM, or chromium
// (Debian), chromium-browser or google-chrome on PATH.
func LookPath() (string, error) {
	if p := os.Getenv(EnvChromium); p != "" {
		if _, err := exec.LookPath(p); err != nil {
			return "", fmt.Errorf("%s=%s is not a program: %w", EnvChromium, p, err)
		}
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errNoChromium
}

// Find returns the Chromium to run (LookPath). Without one the test is
// skipped, loudly; under CI (CI set) it fails, as it does when
// $DLTHUB_CHROMIUM names no program.
func Find(t testing.TB) string {
	t.Helper()
	p, err := LookPath()
	switch {
	case err == nil:
		return p
	case errors.Is(err, errNoChromium) && os.Getenv("CI") == "":
		t.Skip("browsertest: BROWSER TEST NOT RUN: " + err.Error())
	default:
		t.Fatal("browsertest: " + err.Error())
	}
	return ""
}

// AllocatorOptions run the Chromium at path headless with its profile in
// userDataDir, and without its sandbox only as root, where it refuses to
// start with it (CI containers run the tests as root).
func AllocatorOptions(path, userDataDir string) []chromedp.ExecAllocatorOption {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(userDataDir),
		chromedp.WindowSize(1280, 900),
		chromedp.DisableGPU,
		// The servers listen on loopback; no proxy, no component
		// updates while a test runs.
		chromedp.Flag("no-proxy-server", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("hide-scrollbars", true),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	return opts
}

// Browser is one headless Chromium for one test, with a profile of its own
// in a temporary folder.
type Browser struct {
	t       testing.TB
	ctx     context.Context // the first tab's; tabs made from it share cookies
	timeout time.Duration
}

// Start starts Chromium for the test and stops it when the test ends or
// after timeout (DefaultTimeout when zero), whichever comes first.
func Start(t testing.TB, timeout time.Duration) *Browser {
	t.Helper()
	path := Find(t)
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	opts := AllocatorOptions(path, t.TempDir())
	deadline, stopDeadline := context.WithTimeout(context.Background(), timeout)
	alloc, stopAlloc := chromedp.NewExecAllocator(deadline, opts...)
	ctx, stopBrowser := chromedp.NewContext(alloc, chromedp.WithErrorf(func(format string, args ...any) {
		t.Logf("chromium: "+format, args...)
	}))
	t.Cleanup(func() {
		stopBrowser()
		stopAlloc()
		stopDeadline()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("browsertest: start %s: %v", path, err)
	}
	return &Browser{t: t, ctx: ctx, timeout: timeout}
}

// Tab opens a tab that shares the browser's cookies (one person in one
// browser).
func (b *Browser) Tab() *Tab {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	return newTab(b, ctx, cancel)
}

// Incognito opens a tab in a browser context of its own: no cookies of
// the other tabs (another person, or a visitor who is not signed in).
func (b *Browser) Incognito() *Tab {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	return newTab(b, ctx, cancel)
}

// Tab is one browser tab and what went wrong in it.
type Tab struct {
	Ctx     context.Context
	t       testing.TB
	timeout time.Duration // the browser's

	mu       sync.Mutex
	urls     map[network.RequestID]string // requests in flight, for failures
	expected []expected
	problems []string
}

// expected is a response status a test announced: an error page it means
// to see.
type expected struct {
	status int64
	path   string
}

func newTab(b *Browser, ctx context.Context, cancel context.CancelFunc) *Tab {
	t := b.t
	t.Helper()
	tab := &Tab{Ctx: ctx, t: t, timeout: b.timeout, urls: map[network.RequestID]string{}}
	if err := chromedp.Listen(ctx, tab.record); err != nil {
		cancel()
		t.Fatalf("browsertest: open a tab: %v", err)
	}
	t.Cleanup(func() {
		tab.Check()
		cancel()
	})
	return tab
}

// Expect announces a response of status for a URL whose path is path: a
// page the test means to see fail is not a problem.
func (tab *Tab) Expect(status int, path string) {
	tab.mu.Lock()
	defer tab.mu.Unlock()
	tab.expected = append(tab.expected, expected{int64(status), path})
}

// record runs on the tab's event loop (chromedp.Listen): it only notes.
func (tab *Tab) record(ev any) {
	tab.mu.Lock()
	defer tab.mu.Unlock()
	switch e := ev.(type) {
	case *runtime.EventExceptionThrown:
		d := e.ExceptionDetails
		msg := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			msg += " " + d.Exception.Description
		}
		tab.problems = append(tab.problems, fmt.Sprintf("JavaScript exception at %s:%d: %s", d.URL, d.LineNumber+1, msg))
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
			var parts []string
			for _, a := range e.Args {
				parts = append(parts, remoteText(a))
			}
			tab.problems = append(tab.problems, "console."+string(e.Type)+": "+strings.Join(parts, " "))
		}
	case *log.EventEntryAdded:
		// The network's own entries ("failed to load resource: 404") are
		// judged below, by status, where Expect applies.
		if e.Entry.Level == log.EntryLevelError && e.Entry.Source != log.EntrySourceNetwork {
			tab.problems = append(tab.problems, fmt.Sprintf("browser log (%s): %s %s", e.Entry.Source, e.Entry.Text, e.Entry.URL))
		}
	case *network.EventRequestWillBeSent:
		tab.urls[e.RequestID] = e.Request.URL
	case *network.EventResponseReceived:
		if e.Response.Status >= 400 && !tab.isExpected(e.Response.Status, e.Response.URL) {
			tab.problems = append(tab.problems, fmt.Sprintf("HTTP %d %s (%s)", e.Response.Status, e.Response.URL, e.Type))
		}
	case *network.EventLoadingFinished:
		delete(tab.urls, e.RequestID)
	case *network.EventLoadingFailed:
		u := tab.urls[e.RequestID]
		delete(tab.urls, e.RequestID)
		// Canceled: the browser dropped the request itself (the page
		// navigated away or closed), which is no failure of the server.
		if !e.Canceled {
			tab.problems = append(tab.problems, fmt.Sprintf("request failed: %s %s %s", u, e.ErrorText, e.BlockedReason))
		}
	}
}

func (tab *Tab) isExpected(status int64, raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	for _, x := range tab.expected {
		if x.status == status && x.path == u.Path {
			return true
		}
	}
	return false
}

// remoteText is a console argument as the console would show it.
func remoteText(o *runtime.RemoteObject) string {
	if o == nil {
		return ""
	}
	if len(o.Value) > 0 {
		return string(o.Value)
	}
	if o.Description != "" {
		return o.Description
	}
	return string(o.Type)
}

// Problems are what went wrong in the tab so far.
func (tab *Tab) Problems() []string {
	tab.mu.Lock()
	defer tab.mu.Unlock()
	return append([]string(nil), tab.problems...)
}

// Check fails the test for each problem seen so far and forgets them; the
// tab checks itself when the test ends.
func (tab *Tab) Check() {
	tab.t.Helper()
	tab.mu.Lock()
	problems := tab.problems
	tab.problems = nil
	tab.mu.Unlock()
	for _, p := range problems {
		tab.t.Errorf("browser: %s", p)
	}
}

// Do runs the steps in the tab; on an error the test stops, saying which
// step of the caller's failed and what the tab saw go wrong.
func (tab *Tab) Do(what string, steps ...chromedp.Action[chromedp.Void]) {
	tab.t.Helper()
	if err := chromedp.Do(tab.Ctx, steps...); err != nil {
		tab.fatal(what, err)
	}
}

// Run runs one action in the tab and returns its value; on an error the
// test stops as with Do.
func Run[T any](tab *Tab, what string, a chromedp.Action[T]) T {
	tab.t.Helper()
	v, err := chromedp.Run(tab.Ctx, a)
	if err != nil {
		tab.fatal(what, err)
	}
	return v
}

func (tab *Tab) fatal(what string, err error) {
	tab.t.Helper()
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("the browser test ran out of time (%s): %w", tab.timeout, err)
	}
	loc, _ := chromedp.Run(tab.Ctx, chromedp.Location())
	tab.t.Fatalf("browser: %s (at %s): %v\nseen in the tab: %s", what, loc, err, strings.Join(tab.Problems(), "; "))
}

// Text is the text of the first element matching css, once it is there.
func (tab *Tab) Text(css string) string {
	tab.t.Helper()
	return Run(tab, "read "+css, chromedp.Text(chromedp.CSS(css), chromedp.NodeVisible))
}

// WaitFor waits until the JavaScript expression is truthy in the page.
func (tab *Tab) WaitFor(what, expression string, timeout time.Duration) {
	tab.t.Helper()
	tab.Do(what, chromedp.Poll[chromedp.Void]("!!("+expression+") || undefined", chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(20*time.Millisecond)))
}

// DisableScripts turns JavaScript off in the tab, for pages that must
// work without it.
func (tab *Tab) DisableScripts() {
	tab.t.Helper()
	tab.Do("disable JavaScript", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	}))
}

// Screenshot writes the tab's whole page (or, with a selector, one
// element) as NAME.png into $DLTHUB_SCREENSHOTS; unset, it does nothing.
func (tab *Tab) Screenshot(name, css string) {
	tab.t.Helper()
	dir := ScreenshotDir(tab.t)
	if dir == "" {
		return
	}
	var png []byte
	if css == "" {
		png = Run(tab, "screenshot "+name, chromedp.FullScreenshot(100))
	} else {
		png = Run(tab, "screenshot "+name, chromedp.Screenshot(chromedp.CSS(css), chromedp.NodeVisible))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tab.t.Fatalf("browsertest: screenshot folder: %v", err)
	}
	p := filepath.Join(dir, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		tab.t.Fatalf("browsertest: write %s: %v", p, err)
	}
	tab.t.Logf("screenshot %s", p)
}

// ScreenshotDir is the folder of $DLTHUB_SCREENSHOTS, relative ones taken
// from the module's root; "" when unset.
func ScreenshotDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv(EnvScreenshots)
	if dir == "" || filepath.IsAbs(dir) {
		return dir
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatalf("browsertest: %v", err)
	}
	for root := wd; ; root = filepath.Dir(root) {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			return filepath.Join(root, dir)
		}
		if filepath.Dir(root) == root {
			t.Fatalf("browsertest: no go.mod above %s for %s=%s", wd, EnvScreenshots, dir)
		}
	}
}
