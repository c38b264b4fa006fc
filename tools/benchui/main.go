// Command benchui measures how soon a log line reaches a person watching
// the run page: ui_first_log_line is the time from a line being stored
// for a running run (store.AppendRunLogs, as the worker does with each
// batch) to its node being in the page of a real headless Chromium that
// follows the run (static/runlog.js over the NDJSON log stream), for
// -lines lines; it prints the p50 and p95.
//
// The page side is timed in the page: a MutationObserver on the log
// records performance.timeOrigin + performance.now() (milliseconds since
// the epoch, sub-millisecond) as each line's node is added, and the
// program reads the records when all lines are in. Polling the DOM from
// Go would add the poll interval and a DevTools round trip to every
// sample; the observer sees the append itself. Browser and program run on
// one machine, so their wall clocks are the same clock.
//
// The baseline is the same lines read at the same time by a Go client
// following GET …/runs/{run}/logs?follow=true (what `dlthub job logs -f`
// reads): the cost of the stream itself (the server's 200 ms poll of the
// store and the flush), so the gap is what the browser adds (fetch,
// parsing, DOM). Lines are stored at random gaps of 100–300 ms, so they
// fall at every phase of the server's poll. The worker's own batching
// (every 200 ms) comes on top of both in a real run.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/chromedp/chromedp"
	"gocloud.dev/blob/fileblob"
	"gocloud.dev/secrets/localsecrets"

	"github.com/dlthub/dlthub/internal/browsertest"
	"github.com/dlthub/dlthub/internal/server"
	"github.com/dlthub/dlthub/internal/store"
)

func main() {
	lines := flag.Int("lines", 20, "log lines to time")
	timeout := flag.Duration("timeout", 2*time.Minute, "limit for the whole measurement")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if err := run(ctx, *lines); err != nil {
		fmt.Fprintln(os.Stderr, "benchui:", err)
		os.Exit(1)
	}
}

const (
	email    = "bench@example.test"
	password = "bench-password-1"
)

func run(ctx context.Context, n int) error {
	if n < 1 {
		return errors.New("need -lines >= 1")
	}
	chromium, err := browsertest.LookPath()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "dlthub-benchui-")
	if err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	defer func() { _ = os.RemoveAll(work) }()

	st, err := store.OpenSQLite(ctx, filepath.Join(work, "dlthub.db"))
	if err != nil {
		return fmt.Errorf("open SQLite store: %w", err)
	}
	defer func() { _ = st.Close() }()
	if err := os.MkdirAll(filepath.Join(work, "blobs"), 0o755); err != nil {
		return fmt.Errorf("blob dir: %w", err)
	}
	bucket, err := fileblob.OpenBucket(filepath.Join(work, "blobs"), &fileblob.Options{NoTempDir: true})
	if err != nil {
		return fmt.Errorf("open blob bucket: %w", err)
	}
	defer func() { _ = bucket.Close() }()
	key, err := localsecrets.NewRandomKey()
	if err != nil {
		return fmt.Errorf("secrets key: %w", err)
	}
	srv := server.New(server.Config{Store: st, Blob: bucket, Keeper: localsecrets.NewKeeper(key), HashKey: key[:], TmpDir: work})
	base, stop, err := serve(srv)
	if err != nil {
		return err
	}
	defer stop()
	srv.SetPublicURL(base)

	u, err := srv.CreateAccount(ctx, email, "Bench", password, "bench")
	if err != nil {
		return fmt.Errorf("account: %w", err)
	}
	orgs, err := st.OrgsOfUser(ctx, u.ID)
	if err != nil {
		return fmt.Errorf("the account's organization: %w", err)
	}
	if len(orgs) == 0 {
		return errors.New("the account has no organization")
	}
	ws, err := st.CreateWorkspace(ctx, orgs[0].Org.ID, "bench")
	if err != nil {
		return fmt.Errorf("workspace: %w", err)
	}
	token, err := srv.IssueToken(ctx, u.ID, "benchui", time.Hour)
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	started := time.Now().UTC()
	r, err := st.CreateRun(ctx, store.Run{WorkspaceID: ws.ID, JobRef: "jobs.bench.print", Trigger: "manual:jobs.bench.print", Profile: "prod",
		Status: store.RunRunning, DeploymentVersion: 1, CreatedBy: u.ID, StartedAt: &started})
	if err != nil {
		return fmt.Errorf("run: %w", err)
	}
	// Whatever happens, the run ends, so the server's followers do.
	defer func() {
		_ = st.FinishRun(context.WithoutCancel(ctx), r.ID, store.RunCompleted, nil, "", time.Now().UTC())
	}()
	if err := st.AppendRunLogs(ctx, r.ID, []store.LogLine{{Seq: 1, At: time.Now().UTC(), Stream: "stdout", Line: "backlog"}}); err != nil {
		return fmt.Errorf("backlog line: %w", err)
	}

	page, closeBrowser, err := openRunPage(ctx, chromium, work, base, server.RunPagePath(ws.ID, r.ID))
	if err != nil {
		return err
	}
	defer closeBrowser()
	follower, err := followAPI(ctx, base+"/api/v1/workspaces/"+ws.ID+"/runs/"+r.ID+"/logs?follow=true&after=1", token)
	if err != nil {
		return err
	}

	// Store the lines, at random gaps, noting when each was stored.
	stored := map[int64]time.Time{}
	for i := range n {
		if err := sleep(ctx, time.Duration(100+rand.IntN(201))*time.Millisecond); err != nil {
			return err
		}
		seq := int64(i + 2)
		stored[seq] = time.Now()
		if err := st.AppendRunLogs(ctx, r.ID, []store.LogLine{{Seq: seq, At: stored[seq].UTC(), Stream: "stdout", Line: "line " + strconv.Itoa(i+1)}}); err != nil {
			return fmt.Errorf("store line %d: %w", i+1, err)
		}
	}
	last := int64(n + 1)
	if _, err := chromedp.Run(page, chromedp.Poll[chromedp.Void](fmt.Sprintf(`!!window.benchSeen[%d]`, last), chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		return fmt.Errorf("the page never showed line %d: %w", n, err)
	}
	seenPage, err := chromedp.Run(page, chromedp.Evaluate[map[string]float64](`window.benchSeen`))
	if err != nil {
		return fmt.Errorf("read the page's times: %w", err)
	}
	seenAPI, err := follower.wait(ctx, last)
	if err != nil {
		return err
	}
	var ui, api []float64
	for seq, at := range stored {
		p, ok := seenPage[strconv.FormatInt(seq, 10)]
		a, ok2 := seenAPI[seq]
		if !ok || !ok2 {
			return fmt.Errorf("line %d: seen in the page %t, through the API %t", seq-1, ok, ok2)
		}
		ui = append(ui, p-float64(at.UnixNano())/1e6)
		api = append(api, float64(a.Sub(at).Microseconds())/1e3)
	}
	fmt.Printf("BENCH name=ui_first_log_line lines=%d p50_ms=%.1f p95_ms=%.1f baseline_p50_ms=%.1f baseline_p95_ms=%.1f\n",
		n, percentile(ui, 50), percentile(ui, 95), percentile(api, 50), percentile(api, 95))
	return nil
}

// openRunPage starts Chromium, signs in through the form, opens the run
// page and waits until its script follows the run, with an observer on
// the log that notes when each line's node arrives (window.benchSeen).
func openRunPage(ctx context.Context, chromium, work, base, path string) (context.Context, func(), error) {
	alloc, stopAlloc := chromedp.NewExecAllocator(ctx, browsertest.AllocatorOptions(chromium, filepath.Join(work, "chromium"))...)
	page, stopPage := chromedp.NewContext(alloc)
	stop := func() { stopPage(); stopAlloc() }
	err := chromedp.Do(page,
		chromedp.Navigate(base+"/login?next="+url.QueryEscape(path)),
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), email),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), password),
		chromedp.Click(chromedp.CSS(`form button`)),
		chromedp.WaitVisible(chromedp.CSS(`#run-log`)),
		chromedp.Poll[chromedp.Void](`document.getElementById("run-live").textContent.startsWith("Following the run")`, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Evaluate[chromedp.Void](`window.benchSeen = {};
new MutationObserver(ms => {
	const at = performance.timeOrigin + performance.now();
	for (const m of ms) for (const n of m.addedNodes) if (n.dataset && n.dataset.seq) window.benchSeen[n.dataset.seq] = at;
}).observe(document.getElementById("run-log"), {childList: true}); true`),
	)
	if err != nil {
		stop()
		return nil, nil, fmt.Errorf("open the run page in %s: %w", chromium, err)
	}
	return page, stop, nil
}

// apiFollower reads a followed log stream and notes when each line came.
type apiFollower struct {
	mu   sync.Mutex
	seen map[int64]time.Time
	more chan struct{} // a line came
	err  error
}

// followAPI follows the log as the CLI does, with a bearer token.
func followAPI(ctx context.Context, logsURL, token string) (*apiFollower, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, logsURL, nil)
	if err != nil {
		return nil, fmt.Errorf("log request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("follow the log: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		_ = resp.Body.Close()
		return nil, fmt.Errorf("follow the log: HTTP %d", resp.StatusCode)
	}
	f := &apiFollower{seen: map[int64]time.Time{}, more: make(chan struct{}, 1)}
	go func() {
		defer func() { _ = resp.Body.Close() }()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			at := time.Now()
			var l server.LogLineJSON
			err := json.Unmarshal(sc.Bytes(), &l)
			f.mu.Lock()
			if err != nil {
				f.err = fmt.Errorf("log stream: %w", err)
			} else if l.Seq > 0 {
				f.seen[l.Seq] = at
			}
			f.mu.Unlock()
			select {
			case f.more <- struct{}{}:
			default:
			}
			if err != nil || l.End {
				return
			}
		}
	}()
	return f, nil
}

// wait returns the arrival times once line seq has come.
func (f *apiFollower) wait(ctx context.Context, seq int64) (map[int64]time.Time, error) {
	for {
		f.mu.Lock()
		_, ok := f.seen[seq]
		err := f.err
		seen := maps.Clone(f.seen)
		f.mu.Unlock()
		if err != nil {
			return nil, err
		}
		if ok {
			return seen, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("line seq %d never came through the API: %w", seq, ctx.Err())
		case <-f.more:
		}
	}
}

// percentile is the nearest-rank percentile of xs in milliseconds.
func percentile(xs []float64, p int) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	i := (p*len(s)+99)/100 - 1
	return s[max(0, min(i, len(s)-1))]
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// serve serves h on a fresh loopback port and returns its base URL and a
// function that shuts it down.
func serve(h http.Handler) (string, func(), error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("listen on loopback: %w", err)
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := hs.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, "benchui: serve:", err)
		}
	}()
	return "http://" + l.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(ctx)
		<-done
	}, nil
}
