package rest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dlthub/dlthub/internal/jsonx"
	"github.com/dlthub/dlthub/internal/pipeline"
)

// items are the API's data: ids 1..n.
func items(from, to int) []map[string]any {
	var out []map[string]any
	for i := from; i <= to; i++ {
		out = append(out, map[string]any{"id": i, "updated_at": fmt.Sprintf("2024-01-01T%02d:00:00Z", i)})
	}
	return out
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// run collects every record of every resource, by resource name.
func run(t *testing.T, cfg Config, sleeps *[]time.Duration) (map[string][]*jsonx.Object, error) {
	t.Helper()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cl := newClient(cfg.Client)
	cl.sleep = func(_ context.Context, d time.Duration) error {
		if sleeps != nil {
			*sleeps = append(*sleeps, d)
		}
		return nil
	}
	res, err := build(cfg, cl)
	if err != nil {
		return nil, err
	}
	out := map[string][]*jsonx.Object{}
	for _, r := range res {
		rc := &pipeline.ResourceContext{State: map[string]any{}}
		for rec, err := range r.Records(context.Background(), rc) {
			if err != nil {
				return out, err
			}
			if rc.OnKept != nil {
				rc.OnKept(rec) // what the engine does for every record it keeps
			}
			out[r.Name] = append(out[r.Name], rec.(*jsonx.Object))
		}
	}
	return out, nil
}

func ids(recs []*jsonx.Object) string {
	var s []string
	for _, r := range recs {
		v, _ := r.Get("id")
		s = append(s, scalarString(v))
	}
	return strings.Join(s, ",")
}

func TestPaginators(t *testing.T) {
	const n, per = 7, 3
	page := func(_ *http.Request, from int) []map[string]any {
		to := min(from+per-1, n)
		if from > n {
			return []map[string]any{}
		}
		return items(from, to)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/json_link", func(w http.ResponseWriter, r *http.Request) {
		p, _ := strconv.Atoi(r.URL.Query().Get("p"))
		if p == 0 {
			p = 1
		}
		body := map[string]any{"data": page(r, (p-1)*per+1), "paging": map[string]any{"next": nil}}
		if p*per < n {
			body["paging"] = map[string]any{"next": fmt.Sprintf("/json_link?p=%d", p+1)}
		}
		writeJSON(w, body)
	})
	mux.HandleFunc("/header_link", func(w http.ResponseWriter, r *http.Request) {
		p, _ := strconv.Atoi(r.URL.Query().Get("page"))
		if p == 0 {
			p = 1
		}
		if p*per < n {
			w.Header().Set("Link", fmt.Sprintf(`<http://%s/header_link?page=%d>; rel="next", <http://%s/header_link?page=3>; rel="last"`, r.Host, p+1, r.Host))
		}
		writeJSON(w, page(r, (p-1)*per+1))
	})
	mux.HandleFunc("/offset", func(w http.ResponseWriter, r *http.Request) {
		off, _ := strconv.Atoi(r.URL.Query().Get("skip"))
		if r.URL.Query().Get("take") != strconv.Itoa(per) {
			http.Error(w, "bad limit", http.StatusBadRequest)
			return
		}
		writeJSON(w, map[string]any{"items": page(r, off+1), "total": n})
	})
	mux.HandleFunc("/page_number", func(w http.ResponseWriter, r *http.Request) {
		p, _ := strconv.Atoi(r.URL.Query().Get("page"))
		writeJSON(w, map[string]any{"results": page(r, (p-1)*per+1)})
	})
	mux.HandleFunc("/cursor", func(w http.ResponseWriter, r *http.Request) {
		c, _ := strconv.Atoi(r.URL.Query().Get("after"))
		body := map[string]any{"data": page(r, c+1), "meta": map[string]any{"next_cursor": nil}}
		if c+per < n {
			body["meta"] = map[string]any{"next_cursor": strconv.Itoa(c + per)}
		}
		writeJSON(w, body)
	})
	mux.HandleFunc("/single", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, items(1, 2)) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	cases := []struct {
		name string
		pg   PaginatorConfig
		want string
	}{
		{"json_link", PaginatorConfig{Type: "json_link", NextURLPath: "paging.next"}, "1,2,3,4,5,6,7"},
		{"header_link", PaginatorConfig{Type: "header_link"}, "1,2,3,4,5,6,7"},
		{"offset", PaginatorConfig{Type: "offset", Limit: per, OffsetParam: "skip", LimitParam: "take", TotalPath: "total"}, "1,2,3,4,5,6,7"},
		{"page_number", PaginatorConfig{Type: "page_number"}, "1,2,3,4,5,6,7"},
		{"cursor", PaginatorConfig{Type: "cursor", CursorPath: "meta.next_cursor", CursorParam: "after"}, "1,2,3,4,5,6,7"},
		{"single", PaginatorConfig{Type: "single_page"}, "1,2"},
		{"json_link", PaginatorConfig{}, "1,2,3,4,5,6,7"},   // auto: finds paging.next
		{"header_link", PaginatorConfig{}, "1,2,3,4,5,6,7"}, // auto: finds the Link header
		{"json_link", PaginatorConfig{Type: "json_link", NextURLPath: "paging.next", MaximumPages: 2}, "1,2,3,4,5,6"},
	}
	for _, tc := range cases {
		t.Run(tc.name+"/"+tc.pg.Type, func(t *testing.T) {
			got, err := run(t, Config{Client: ClientConfig{BaseURL: srv.URL, Paginator: tc.pg}, Resources: []ResourceConfig{{Name: "r", Endpoint: EndpointConfig{Path: tc.name}}}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if ids(got["r"]) != tc.want {
				t.Errorf("ids %s, want %s", ids(got["r"]), tc.want)
			}
		})
	}
}

func TestAuth(t *testing.T) {
	var tokenCalls int
	mux := http.NewServeMux()
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		tokenCalls++
		id, secret, ok := r.BasicAuth()
		if !ok || id != "cid" || secret != "csecret" || r.FormValue("grant_type") != "client_credentials" || r.FormValue("scope") != "read" {
			http.Error(w, "bad client", http.StatusUnauthorized)
			return
		}
		writeJSON(w, map[string]any{"access_token": "oauth-tok", "expires_in": 3600})
	})
	mux.HandleFunc("/data", func(w http.ResponseWriter, r *http.Request) {
		ok := r.Header.Get("Authorization") == "Bearer tok" ||
			r.Header.Get("X-Api-Key") == "key" ||
			r.URL.Query().Get("api_key") == "key" ||
			r.Header.Get("Authorization") == "Bearer oauth-tok"
		if u, p, basic := r.BasicAuth(); basic && u == "user" && p == "pw" {
			ok = true
		}
		if !ok {
			http.Error(w, `{"message": "unauthorized"}`, http.StatusUnauthorized)
			return
		}
		writeJSON(w, items(1, 1))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, a := range []AuthConfig{
		{Type: "bearer", Token: "tok"},
		{Type: "api_key", Name: "X-Api-Key", APIKey: "key"},
		{Type: "api_key", Name: "api_key", APIKey: "key", Location: "query"},
		{Type: "http_basic", Username: "user", Password: "pw"},
		{Type: "oauth2_client_credentials", AccessTokenURL: srv.URL + "/token", ClientID: "cid", ClientSecret: "csecret", Scopes: []string{"read"}},
	} {
		t.Run(a.Type+a.Location, func(t *testing.T) {
			cfg := Config{Client: ClientConfig{BaseURL: srv.URL, Auth: a}, Resources: []ResourceConfig{{Name: "data"}, {Name: "again", Endpoint: EndpointConfig{Path: "data"}}}}
			got, err := run(t, cfg, nil)
			if err != nil || len(got["data"]) != 1 {
				t.Fatalf("%v %v", got, err)
			}
		})
	}
	if tokenCalls != 1 {
		t.Errorf("oauth2 token fetched %d times, want 1 (cached)", tokenCalls)
	}
	// A wrong key fails with the status, the URL (key redacted) and the body.
	_, err := run(t, Config{Client: ClientConfig{BaseURL: srv.URL, Auth: AuthConfig{Type: "api_key", Name: "api_key", APIKey: "wrong", Location: "query"}}, Resources: []ResourceConfig{{Name: "data"}}}, nil)
	if err == nil || !strings.Contains(err.Error(), `resource "data": GET `+srv.URL+`/data?api_key=%2A%2A%2A%2A: HTTP 401: {"message": "unauthorized"}`) {
		t.Errorf("err = %v", err)
	}
}

func TestParentChild(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/issues", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, []map[string]any{{"id": 10, "number": 1}, {"id": 20, "number": 2}})
	})
	mux.HandleFunc("/issues/{n}/comments", func(w http.ResponseWriter, r *http.Request) {
		n := r.PathValue("n")
		if r.URL.Query().Get("issue") != n {
			http.Error(w, "param not substituted", http.StatusBadRequest)
			return
		}
		writeJSON(w, []map[string]any{{"id": "c" + n + "a"}, {"id": "c" + n + "b"}})
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	cfg := Config{Client: ClientConfig{BaseURL: srv.URL}, Resources: []ResourceConfig{
		// Listed before its parent on purpose.
		{Name: "comments", Endpoint: EndpointConfig{Path: "issues/{resources.issues.number}/comments", Params: map[string]any{"issue": "{resources.issues.number}"}}, IncludeFromParent: []string{"id"}},
		{Name: "issues"},
	}}
	got, err := run(t, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ids(got["issues"]) != "10,20" || ids(got["comments"]) != "c1a,c1b,c2a,c2b" {
		t.Fatalf("issues %s comments %s", ids(got["issues"]), ids(got["comments"]))
	}
	if v, _ := got["comments"][2].Get("_issues_id"); v != int64(20) {
		t.Errorf("include_from_parent: %v", v)
	}
	// A parent that is not selected is fetched for its children only.
	no := false
	cfg.Resources[1].Selected = &no
	got, err = run(t, cfg, nil)
	if err != nil || len(got["issues"]) != 0 || len(got["comments"]) != 4 {
		t.Errorf("unselected parent: %v %v", got, err)
	}
	cfg.Resources = []ResourceConfig{{Name: "x", Endpoint: EndpointConfig{Path: "{resources.nope.id}"}}}
	if _, err := run(t, cfg, nil); err == nil || !strings.Contains(err.Error(), "not a resource of this source") {
		t.Errorf("unknown parent: %v", err)
	}
}

func TestRetries(t *testing.T) {
	var mu sync.Mutex
	calls := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls[r.URL.Path]++
		c := calls[r.URL.Path]
		mu.Unlock()
		switch {
		case r.URL.Path == "/limited" && c == 1:
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusTooManyRequests)
		case r.URL.Path == "/flaky" && c <= 2:
			w.WriteHeader(http.StatusServiceUnavailable)
		case r.URL.Path == "/down":
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("maintenance"))
		case r.URL.Path == "/html":
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte("<html><body>Login</body></html>"))
		default:
			writeJSON(w, items(1, 2))
		}
	}))
	defer srv.Close()
	var sleeps []time.Duration
	got, err := run(t, Config{Client: ClientConfig{BaseURL: srv.URL, BackoffBase: 100 * time.Millisecond}, Resources: []ResourceConfig{{Name: "limited"}, {Name: "flaky"}}}, &sleeps)
	if err != nil || len(got["limited"]) != 2 || len(got["flaky"]) != 2 {
		t.Fatalf("%v %v", got, err)
	}
	want := []time.Duration{7 * time.Second, 100 * time.Millisecond, 200 * time.Millisecond}
	if fmt.Sprint(sleeps) != fmt.Sprint(want) {
		t.Errorf("waits %v, want %v (Retry-After, then exponential backoff)", sleeps, want)
	}
	_, err = run(t, Config{Client: ClientConfig{BaseURL: srv.URL, MaxRetries: 2}, Resources: []ResourceConfig{{Name: "down"}}}, nil)
	if err == nil || !strings.Contains(err.Error(), `resource "down": GET `+srv.URL+`/down: HTTP 503: maintenance`) {
		t.Errorf("down: %v", err)
	}
	_, err = run(t, Config{Client: ClientConfig{BaseURL: srv.URL}, Resources: []ResourceConfig{{Name: "html"}}}, nil)
	if err == nil || !strings.Contains(err.Error(), `resource "html": GET `+srv.URL+`/html: the response is not JSON (Content-Type "text/html")`) {
		t.Errorf("html: %v", err)
	}
}

// TestIncrementalAcrossRuns loads through the engine twice: the second run
// asks the API only for records since the stored cursor.
func TestIncrementalAcrossRuns(t *testing.T) {
	var mu sync.Mutex
	total, seen := 5, []string{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		since := r.URL.Query().Get("since")
		seen = append(seen, since)
		var out []map[string]any
		for _, it := range items(1, total) {
			if it["updated_at"].(string) >= since {
				out = append(out, it)
			}
		}
		writeJSON(w, out)
	}))
	defer srv.Close()
	dir := t.TempDir()
	p, err := pipeline.New(pipeline.Options{Name: "api", PipelinesDir: filepath.Join(dir, "p"), LocalDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Client: ClientConfig{BaseURL: srv.URL}, Resources: []ResourceConfig{{
		Name: "events", PrimaryKey: []string{"id"},
		Endpoint: EndpointConfig{Path: "events", Incremental: &IncrementalConfig{StartParam: "since", CursorPath: "updated_at", InitialValue: "2024-01-01T02:00:00Z"}},
	}}}
	for round, want := range []int64{4, 2} {
		if round == 1 {
			total = 7
		}
		res, err := Resources(cfg)
		if err != nil {
			t.Fatal(err)
		}
		info, err := p.Run(context.Background(), res...)
		if err != nil {
			t.Fatal(err)
		}
		if info.Rows["events"] != want {
			t.Errorf("round %d: %d rows, want %d", round, info.Rows["events"], want)
		}
	}
	if strings.Join(seen, " ") != "2024-01-01T02:00:00Z 2024-01-01T05:00:00Z" {
		t.Errorf("since params %v", seen)
	}
}

// A time in a placeholder (an incremental cursor stored as a datetime) is
// what dlt's str.format puts in: Python's str() of the datetime, in UTC.
func TestScalarStringOfTime(t *testing.T) {
	for _, tc := range []struct {
		t    time.Time
		want string
	}{
		{time.Date(2024, 5, 1, 4, 0, 0, 123456789, time.FixedZone("", 3600)), "2024-05-01 03:00:00.123456+00:00"},
		{time.Date(2024, 5, 1, 3, 0, 0, 0, time.UTC), "2024-05-01 03:00:00+00:00"},
	} {
		if got := scalarString(tc.t); got != tc.want {
			t.Errorf("scalarString(%v) = %q, want %q", tc.t, got, tc.want)
		}
	}
}
