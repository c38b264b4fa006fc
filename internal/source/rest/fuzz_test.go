package rest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dlthub/dlthub/internal/pipeline"
)

// constantAPI answers every request with the same body and Link header and
// remembers the URLs asked for.
type constantAPI struct {
	body, link string
	urls       []string
}

func (a *constantAPI) RoundTrip(r *http.Request) (*http.Response, error) {
	a.urls = append(a.urls, r.URL.String())
	if len(a.urls) > maxFuzzPages {
		// Empty pages whose next links are always new (a relative link
		// that grows) are read on without records to stop at.
		return nil, errors.New("enough pages")
	}
	h := http.Header{"Content-Type": {"application/json"}}
	if a.link != "" {
		h.Set("Link", a.link)
	}
	return &http.Response{StatusCode: http.StatusOK, Header: h, Body: io.NopCloser(strings.NewReader(a.body)), Request: r}, nil
}

// fuzzPaginators are the paginator configurations of TestPaginators.
var fuzzPaginators = []PaginatorConfig{
	{},
	{Type: "single_page"},
	{Type: "json_link", NextURLPath: "paging.next"},
	{Type: "header_link"},
	{Type: "offset", Limit: 3, OffsetParam: "skip", LimitParam: "take", TotalPath: "total"},
	{Type: "offset", Limit: 1},
	{Type: "page_number", TotalPath: "meta.pages"},
	{Type: "page_number", BasePage: -1},
	{Type: "cursor", CursorPath: "meta.next_cursor", CursorParam: "after"},
	{Type: "json_link", NextURLPath: "next", MaximumPages: 3},
}

// maxFuzzPages is where a fuzz run stops reading an API that keeps giving
// new pages (an endless offset or page-number API is legitimate).
const maxFuzzPages = 40

// FuzzPaginate holds for any response body and Link header, answered to
// every request, with each paginator: reading the resource does not panic,
// never asks for the same page twice (a next link or cursor that points
// back ends the resource, with an error when the page had records), and so
// stops by itself unless every request is new.
func FuzzPaginate(f *testing.F) {
	for i, s := range []struct{ body, link string }{
		{`{"data": [{"id": 1}, {"id": 2}, {"id": 3}], "paging": {"next": "/r?p=2"}}`, ""},
		{`{"data": [{"id": 1}], "paging": {"next": "/r"}}`, ""},
		{`[{"id": 1}, {"id": 2}]`, `<http://api.test/r?page=2>; rel="next", <http://api.test/r?page=3>; rel="last"`},
		{`[{"id": 1}]`, `<http://api.test/r>; rel="next"`},
		{`{"items": [{"id": 1}, {"id": 2}, {"id": 3}], "total": 7}`, ""},
		{`{"results": [{"id": 1}], "meta": {"pages": 2}}`, ""},
		{`{"data": [{"id": 1}], "meta": {"next_cursor": "3"}}`, ""},
		{`{"data": [], "meta": {"next_cursor": "3"}}`, ""},
		{`{"next": "http://api.test/r?x=1", "data": [{"id": 1}]}`, `<::bad>; rel=next`},
		{``, ""},
		{`"not a list"`, ""},
	} {
		f.Add(s.body, s.link, uint8(i))
	}
	f.Fuzz(func(t *testing.T, body, link string, which uint8) {
		pg := fuzzPaginators[int(which)%len(fuzzPaginators)]
		api := &constantAPI{body: body, link: link}
		cfg := Config{
			Client:    ClientConfig{BaseURL: "http://api.test/", Paginator: pg, MaxRetries: -1},
			Resources: []ResourceConfig{{Name: "r", Endpoint: EndpointConfig{Path: "r", Params: map[string]any{"q": "x"}}}},
		}
		cl := newClient(cfg.Client)
		cl.http = &http.Client{Transport: api, Timeout: time.Second}
		cl.sleep = func(context.Context, time.Duration) error { return nil }
		res, err := build(cfg, cl)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		for _, err := range res[0].Records(ctx, &pipeline.ResourceContext{State: map[string]any{}}) {
			if err != nil || len(api.urls) >= maxFuzzPages {
				break
			}
		}
		seen := map[string]bool{}
		for _, u := range api.urls {
			if seen[u] {
				t.Fatalf("asked for %s twice (paginator %+v):\n%s", u, pg, strings.Join(api.urls, "\n"))
			}
			seen[u] = true
		}
		if pg.MaximumPages > 0 && len(api.urls) > pg.MaximumPages {
			t.Fatalf("%d pages, over maximum_pages %d", len(api.urls), pg.MaximumPages)
		}
	})
}

// TestPaginationLoopStops: an API whose next link, Link header or cursor
// points back to a page already read used to be read without end; now an
// empty page ends the resource and a page with records is an error.
func TestPaginationLoopStops(t *testing.T) {
	cases := []struct {
		pg        PaginatorConfig
		body      string
		link      string
		wantError bool
	}{
		{PaginatorConfig{Type: "json_link", NextURLPath: "next"}, `{"data": [{"id": 1}], "next": "/r"}`, "", true},
		{PaginatorConfig{}, `[{"id": 1}]`, `<http://api.test/r>; rel="next"`, true},
		{PaginatorConfig{Type: "cursor", CursorPath: "c", CursorParam: "after"}, `{"data": [{"id": 1}], "c": "x"}`, "", true},
		{PaginatorConfig{Type: "cursor", CursorPath: "c", CursorParam: "after"}, `{"data": [], "c": "x"}`, "", false},
	}
	for _, tc := range cases {
		api := &constantAPI{body: tc.body, link: tc.link}
		cl := newClient(ClientConfig{BaseURL: "http://api.test/", Paginator: tc.pg})
		cl.http = &http.Client{Transport: api}
		res, err := build(Config{Client: cl.cfg, Resources: []ResourceConfig{{Name: "r", Endpoint: EndpointConfig{Path: "r"}}}}, cl)
		if err != nil {
			t.Fatal(err)
		}
		var last error
		for _, err := range res[0].Records(context.Background(), &pipeline.ResourceContext{State: map[string]any{}}) {
			if err != nil {
				last = err
			}
			if len(api.urls) > 10 {
				t.Fatalf("%+v: still reading after %d pages", tc.pg, len(api.urls))
			}
		}
		if (last != nil) != tc.wantError || (last != nil && !strings.Contains(last.Error(), "pagination loop")) {
			t.Errorf("%+v: error %v, want an error: %v", tc.pg, last, tc.wantError)
		}
		if len(api.urls) > 2 {
			t.Errorf("%+v: %d requests: %v", tc.pg, len(api.urls), api.urls)
		}
	}
}
