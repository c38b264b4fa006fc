// Command benchapi measures the control plane's API under concurrent load:
// api_list_jobs is GET /api/v1/workspaces/{id}/jobs with a bearer token,
// answered by the real server (server.New with a real store, blob bucket
// and keeper) listening on a loopback TCP port, with -jobs jobs deployed
// into the workspace. -c clients send requests back to back for -duration
// after a -warmup that is not counted; it prints requests per second and
// the p50 and p99 latency.
//
// The baseline is the same HTTP stack (net/http server on its own loopback
// listener, the same clients, transport and duration) with a handler that
// writes the very body and headers captured from one real answer: what
// the route would cost without authentication and the store (token
// lookup, workspace role, job query, JSON encoding). The gap between the
// two is the server's own work per request.
//
// SQLite is always measured; PostgreSQL too (store=postgres) when
// DLTHUB_TEST_POSTGRES names a server or a throwaway one can be started,
// and otherwise skipped with a note saying why.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"gocloud.dev/blob/fileblob"
	"gocloud.dev/secrets/localsecrets"

	"github.com/dlthub/dlthub/internal/jobs"
	"github.com/dlthub/dlthub/internal/pgtest"
	"github.com/dlthub/dlthub/internal/server"
	"github.com/dlthub/dlthub/internal/store"
)

// options are the command's flags.
type options struct {
	clients  int
	jobs     int
	duration time.Duration
	warmup   time.Duration
	postgres bool
}

func main() {
	var o options
	flag.IntVar(&o.clients, "c", 32, "concurrent clients")
	flag.IntVar(&o.jobs, "jobs", 50, "jobs deployed into the workspace (the list's length; at most 100, one page)")
	flag.DurationVar(&o.duration, "duration", 5*time.Second, "measured time per side")
	flag.DurationVar(&o.warmup, "warmup", time.Second, "load before measuring, not counted")
	flag.BoolVar(&o.postgres, "postgres", true, "also measure with PostgreSQL (skipped with a note when none can be had)")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "benchapi:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	if o.clients < 1 || o.jobs < 1 || o.jobs > 100 || o.duration <= 0 || o.warmup < 0 {
		return errors.New("need -c >= 1, 1 <= -jobs <= 100, -duration > 0 and -warmup >= 0")
	}
	ctx := context.Background()
	work, err := os.MkdirTemp("", "dlthub-benchapi-")
	if err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	defer func() { _ = os.RemoveAll(work) }()

	st, err := store.OpenSQLite(ctx, filepath.Join(work, "dlthub.db"))
	if err != nil {
		return fmt.Errorf("open SQLite store: %w", err)
	}
	err = benchStore(ctx, o, st, "sqlite", filepath.Join(work, "sqlite"))
	if cerr := st.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close SQLite store: %w", cerr)
	}
	if err != nil {
		return fmt.Errorf("store=sqlite: %w", err)
	}
	if !o.postgres {
		return nil
	}
	return benchPostgres(ctx, o, filepath.Join(work, "postgres"))
}

// benchPostgres runs the benchmark against a fresh database on the server
// DLTHUB_TEST_POSTGRES names, or on a throwaway one; without either it
// prints why and measures nothing.
func benchPostgres(ctx context.Context, o options, dir string) error {
	base := os.Getenv(pgtest.EnvURL)
	if base == "" {
		stop, u, err := pgtest.Start()
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchapi: api_list_jobs store=postgres skipped: no PostgreSQL:", err)
			return nil
		}
		defer stop()
		base = u
	}
	const db = "bench_api"
	dbURL, err := url.Parse(base)
	if err != nil {
		return fmt.Errorf("store=postgres: %s: %w", pgtest.EnvURL, err)
	}
	dbURL.Path = "/" + db
	if err := pgExec(ctx, base, "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("store=postgres: %w", err)
	}
	if err := pgExec(ctx, base, "CREATE DATABASE "+db); err != nil {
		return fmt.Errorf("store=postgres: %w", err)
	}
	defer func() { _ = pgExec(context.WithoutCancel(ctx), base, "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)") }()
	st, err := store.OpenPostgres(ctx, dbURL.String())
	if err != nil {
		return fmt.Errorf("store=postgres: open store: %w", err)
	}
	err = benchStore(ctx, o, st, "postgres", dir)
	if cerr := st.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close PostgreSQL store: %w", cerr)
	}
	if err != nil {
		return fmt.Errorf("store=postgres: %w", err)
	}
	return nil
}

// pgExec runs one statement on its own connection.
func pgExec(ctx context.Context, dsn, q string) error {
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer func() { _ = c.Close(ctx) }()
	if _, err := c.Exec(ctx, q); err != nil {
		return fmt.Errorf("%s: %w", q, err)
	}
	return nil
}

// benchStore seeds st, serves it, measures the route and the baseline and
// prints the BENCH line.
func benchStore(ctx context.Context, o options, st store.Store, name, dir string) error {
	blobDir := filepath.Join(dir, "blobs")
	if err := os.MkdirAll(blobDir, 0o755); err != nil {
		return fmt.Errorf("blob dir: %w", err)
	}
	bucket, err := fileblob.OpenBucket(blobDir, &fileblob.Options{NoTempDir: true})
	if err != nil {
		return fmt.Errorf("open blob bucket: %w", err)
	}
	defer func() { _ = bucket.Close() }()
	key, err := localsecrets.NewRandomKey()
	if err != nil {
		return fmt.Errorf("secrets key: %w", err)
	}
	keeper := localsecrets.NewKeeper(key)
	defer func() { _ = keeper.Close() }()
	tmp := filepath.Join(dir, "tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return fmt.Errorf("upload dir: %w", err)
	}
	srv := server.New(server.Config{Store: st, Blob: bucket, Keeper: keeper, HashKey: key[:], TmpDir: tmp})
	base, stopServer, err := serve(srv)
	if err != nil {
		return err
	}
	defer stopServer()
	srv.SetPublicURL(base)

	client := newClient(o.clients)
	defer client.CloseIdleConnections()
	wsID, token, err := seed(ctx, srv, st, client, base, o.jobs)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	target := base + "/api/v1/workspaces/" + wsID + "/jobs"
	header, body, err := capture(ctx, client, target, token, o.jobs)
	if err != nil {
		return err
	}
	api, err := load(ctx, client, target, token, o)
	if err != nil {
		return fmt.Errorf("api_list_jobs: %w", err)
	}

	baseURL, stopBaseline, err := serve(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		for k, v := range header {
			h[k] = v
		}
		_, _ = w.Write(body)
	}))
	if err != nil {
		return err
	}
	defer stopBaseline()
	baseline, err := load(ctx, client, baseURL+"/api/v1/workspaces/"+wsID+"/jobs", "", o)
	if err != nil {
		return fmt.Errorf("api_list_jobs baseline: %w", err)
	}
	fmt.Printf("BENCH name=api_list_jobs concurrency=%d jobs=%d req_per_s=%.0f p50_ms=%.3f p99_ms=%.3f baseline_req_per_s=%.0f baseline_p50_ms=%.3f baseline_p99_ms=%.3f body_bytes=%d store=%s\n",
		o.clients, o.jobs, api.perSecond, ms(api.p50), ms(api.p99),
		baseline.perSecond, ms(baseline.p50), ms(baseline.p99), len(body), name)
	return nil
}

// serve serves h on a fresh loopback TCP port and returns its base URL and
// a function that shuts it down.
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
			fmt.Fprintln(os.Stderr, "benchapi: serve:", err)
		}
	}()
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(ctx)
		<-done
	}
	return "http://" + l.Addr().String(), stop, nil
}

// newClient is the one client both sides use: a shared transport that
// keeps a connection per client open.
func newClient(clients int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = max(100, 2*clients)
	tr.MaxIdleConnsPerHost = max(32, clients)
	tr.DisableCompression = true
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// seed creates an owner with an organization and a workspace, issues a
// bearer token for them and deploys n jobs into the workspace through
// PUT /api/v1/workspaces/{id}/jobs, as `dlthub deploy` does.
func seed(ctx context.Context, srv *server.Server, st store.Store, client *http.Client, base string, n int) (string, string, error) {
	u, err := st.CreateUser(ctx, store.User{Email: "bench@example.test", Name: "Bench", EmailVerified: true})
	if err != nil {
		return "", "", fmt.Errorf("create user: %w", err)
	}
	org, err := st.CreateOrg(ctx, "bench", u.ID)
	if err != nil {
		return "", "", fmt.Errorf("create organization: %w", err)
	}
	ws, err := st.CreateWorkspace(ctx, org.ID, "bench")
	if err != nil {
		return "", "", fmt.Errorf("create workspace: %w", err)
	}
	token, err := srv.IssueToken(ctx, u.ID, "benchapi", time.Hour)
	if err != nil {
		return "", "", fmt.Errorf("issue token: %w", err)
	}

	var manifest strings.Builder
	for i := range n {
		fmt.Fprintf(&manifest, "[jobs.bench.job_%03d]\ndescription = \"benchmark job %d\"\ncommand = [\"python3\", \"jobs/job_%03d.py\"]\ntrigger = [\"%d * * * *\"]\n\n", i, i, i, i%60)
	}
	m, err := jobs.Parse([]byte(manifest.String()), "dlthub.toml")
	if err != nil {
		return "", "", fmt.Errorf("parse the jobs manifest: %w", err)
	}
	type jobJSON struct {
		Ref  string          `json:"job_ref"`
		Hash string          `json:"hash"`
		Spec json.RawMessage `json:"spec"`
	}
	var req struct {
		Jobs []jobJSON `json:"jobs"`
	}
	for _, x := range m.Expand().Jobs {
		spec, err := json.Marshal(x)
		if err != nil {
			return "", "", fmt.Errorf("encode %s: %w", x.JobRef, err)
		}
		req.Jobs = append(req.Jobs, jobJSON{Ref: x.JobRef, Hash: x.Hash, Spec: spec})
	}
	if len(req.Jobs) != n {
		return "", "", fmt.Errorf("the manifest expanded to %d jobs, want %d", len(req.Jobs), n)
	}
	payload, err := json.Marshal(req)
	if err != nil {
		return "", "", fmt.Errorf("encode the jobs: %w", err)
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodPut, base+"/api/v1/workspaces/"+ws.ID+"/jobs", bytes.NewReader(payload))
	if err != nil {
		return "", "", fmt.Errorf("reconcile request: %w", err)
	}
	r.Header.Set("Authorization", "Bearer "+token)
	r.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(r)
	if err != nil {
		return "", "", fmt.Errorf("reconcile jobs: %w", err)
	}
	got, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return "", "", fmt.Errorf("reconcile jobs: read the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", "", fmt.Errorf("reconcile jobs: %s: %s", resp.Status, bytes.TrimSpace(got))
	}
	return ws.ID, token, nil
}

// capture makes one real request and returns its headers (without the
// per-response Date and Content-Length) and body, checking the body lists
// the n jobs.
func capture(ctx context.Context, client *http.Client, target, token string, n int) (http.Header, []byte, error) {
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("capture request: %w", err)
	}
	r.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(r)
	if err != nil {
		return nil, nil, fmt.Errorf("capture a real answer: %w", err)
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, nil, fmt.Errorf("capture a real answer: read: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("capture a real answer: %s: %s", resp.Status, bytes.TrimSpace(body))
	}
	var list struct {
		Jobs []json.RawMessage `json:"jobs"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, nil, fmt.Errorf("capture a real answer: decode: %w", err)
	}
	if len(list.Jobs) != n {
		return nil, nil, fmt.Errorf("capture a real answer: %d jobs listed, want %d", len(list.Jobs), n)
	}
	h := resp.Header.Clone()
	h.Del("Date")
	h.Del("Content-Length")
	return h, body, nil
}

// result is one side's measurement.
type result struct {
	perSecond float64
	p50, p99  time.Duration
}

// load runs o.clients clients that GET target back to back (with the
// bearer token when one is given) for o.warmup, not counted, then for
// o.duration, recording each request's latency. The first failure (an
// error or an answer other than 200) stops every client and is returned.
func load(ctx context.Context, client *http.Client, target, token string, o options) (result, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	begin := time.Now()
	from := begin.Add(o.warmup)
	until := from.Add(o.duration)
	lats := make([][]time.Duration, o.clients)
	lasts := make([]time.Time, o.clients)
	var wg sync.WaitGroup
	for i := range o.clients {
		wg.Go(func() {
			for ctx.Err() == nil {
				start := time.Now()
				if !start.Before(until) {
					return
				}
				if err := get(ctx, client, target, token); err != nil {
					cancel(err)
					return
				}
				end := time.Now()
				if !start.Before(from) {
					lats[i] = append(lats[i], end.Sub(start))
					lasts[i] = end
				}
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return result{}, err
	}
	var all []time.Duration
	last := from
	for i := range lats {
		all = append(all, lats[i]...)
		if lasts[i].After(last) {
			last = lasts[i]
		}
	}
	if len(all) == 0 {
		return result{}, errors.New("no request completed in the measured time")
	}
	slices.Sort(all)
	return result{
		perSecond: float64(len(all)) / last.Sub(from).Seconds(),
		p50:       quantile(all, 0.50),
		p99:       quantile(all, 0.99),
	}, nil
}

// get makes one request and reads its answer to the end, so the
// connection is reused.
func get(ctx context.Context, client *http.Client, target, token string) error {
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("request: %w", err)
	}
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(r)
	if err != nil {
		return fmt.Errorf("GET %s: %w", target, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("GET %s: %s: %s", target, resp.Status, bytes.TrimSpace(msg))
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return fmt.Errorf("GET %s: read the answer: %w", target, err)
	}
	return nil
}

// quantile is the nearest-rank q-quantile of sorted.
func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }
