package rest

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/dlthub/dlthub/internal/jsonx"
	"github.com/dlthub/dlthub/internal/schema"
)

// paginator turns one response into the next request.
type paginator interface {
	// first adds the first request's parameters.
	first(params url.Values)
	// next returns the next request's URL and parameters, or ok=false.
	next(resp *response, reqURL string, params url.Values, records int) (nextURL string, nextParams url.Values, ok bool, err error)
}

func newPaginator(c PaginatorConfig) (paginator, error) {
	switch c.Type {
	case "", "auto":
		return &autoPaginator{}, nil
	case "single_page":
		return singlePage{}, nil
	case "header_link":
		return headerLink{}, nil
	case "json_link":
		if c.NextURLPath == "" {
			return nil, fmt.Errorf("paginator json_link needs next_url_path")
		}
		return jsonLink{path: c.NextURLPath}, nil
	case "offset":
		if c.Limit <= 0 {
			return nil, fmt.Errorf("paginator offset needs a positive limit")
		}
		return &offsetPaginator{cfg: c}, nil
	case "page_number":
		return &pageNumber{cfg: c}, nil
	case "cursor":
		if c.CursorPath == "" || c.CursorParam == "" {
			return nil, fmt.Errorf("paginator cursor needs cursor_path and cursor_param")
		}
		return cursorPaginator{cfg: c}, nil
	}
	return nil, fmt.Errorf("paginator %q: use auto, single_page, json_link, header_link, offset, page_number or cursor", c.Type)
}

type singlePage struct{}

func (singlePage) first(url.Values) {}
func (singlePage) next(*response, string, url.Values, int) (string, url.Values, bool, error) {
	return "", nil, false, nil
}

var linkNext = regexp.MustCompile(`<([^>]+)>\s*;[^,]*rel="?next"?`)

// nextLink reads rel="next" from an RFC 8288 Link header.
func nextLink(resp *response) string {
	for _, h := range resp.Header.Values("Link") {
		if m := linkNext.FindStringSubmatch(h); m != nil {
			return m[1]
		}
	}
	return ""
}

type headerLink struct{}

func (headerLink) first(url.Values) {}
func (headerLink) next(resp *response, reqURL string, _ url.Values, _ int) (string, url.Values, bool, error) {
	l := nextLink(resp)
	if l == "" {
		return "", nil, false, nil
	}
	u, err := resolveAgainst(reqURL, l)
	return u, nil, err == nil, err
}

func resolveAgainst(base, ref string) (string, error) {
	b, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	r, err := url.Parse(ref)
	if err != nil {
		return "", fmt.Errorf("next link %q: %w", ref, err)
	}
	return b.ResolveReference(r).String(), nil
}

type jsonLink struct{ path string }

func (jsonLink) first(url.Values) {}
func (j jsonLink) next(resp *response, reqURL string, _ url.Values, _ int) (string, url.Values, bool, error) {
	v, _ := Select(resp.Body, j.path)
	s, ok := v.(string)
	if !ok || s == "" {
		return "", nil, false, nil
	}
	u, err := resolveAgainst(reqURL, s)
	return u, nil, err == nil, err
}

type offsetPaginator struct {
	cfg    PaginatorConfig
	offset int
}

func (o *offsetPaginator) names() (string, string) {
	off, lim := o.cfg.OffsetParam, o.cfg.LimitParam
	if off == "" {
		off = "offset"
	}
	if lim == "" {
		lim = "limit"
	}
	return off, lim
}

func (o *offsetPaginator) first(p url.Values) {
	off, lim := o.names()
	p.Set(off, "0")
	p.Set(lim, strconv.Itoa(o.cfg.Limit))
}

func (o *offsetPaginator) next(resp *response, reqURL string, p url.Values, records int) (string, url.Values, bool, error) {
	if records == 0 || records < o.cfg.Limit {
		return "", nil, false, nil
	}
	o.offset += o.cfg.Limit
	if o.cfg.TotalPath != "" {
		if total, ok := number(resp.Body, o.cfg.TotalPath); ok && o.offset >= total {
			return "", nil, false, nil
		}
	}
	off, _ := o.names()
	np := clone(p)
	np.Set(off, strconv.Itoa(o.offset))
	return reqURL, np, true, nil
}

type pageNumber struct {
	cfg  PaginatorConfig
	page int
}

func (n *pageNumber) param() string {
	if n.cfg.PageParam == "" {
		return "page"
	}
	return n.cfg.PageParam
}

func (n *pageNumber) first(p url.Values) {
	n.page = n.cfg.BasePage
	if n.page == 0 {
		n.page = 1
	}
	p.Set(n.param(), strconv.Itoa(n.page))
}

func (n *pageNumber) next(resp *response, reqURL string, p url.Values, records int) (string, url.Values, bool, error) {
	if records == 0 {
		return "", nil, false, nil
	}
	if n.cfg.TotalPath != "" {
		if total, ok := number(resp.Body, n.cfg.TotalPath); ok && n.page >= total {
			return "", nil, false, nil
		}
	}
	n.page++
	np := clone(p)
	np.Set(n.param(), strconv.Itoa(n.page))
	return reqURL, np, true, nil
}

type cursorPaginator struct{ cfg PaginatorConfig }

func (cursorPaginator) first(url.Values) {}
func (c cursorPaginator) next(resp *response, reqURL string, p url.Values, _ int) (string, url.Values, bool, error) {
	v, _ := Select(resp.Body, c.cfg.CursorPath)
	if v == nil || v == "" {
		return "", nil, false, nil
	}
	np := clone(p)
	np.Set(c.cfg.CursorParam, scalarString(v))
	return reqURL, np, true, nil
}

// autoPaginator picks one from the first response: a Link header, a next
// link in the body, or a single page.
type autoPaginator struct{ chosen paginator }

func (a *autoPaginator) first(url.Values) {}

func (a *autoPaginator) next(resp *response, reqURL string, p url.Values, records int) (string, url.Values, bool, error) {
	if a.chosen == nil {
		a.chosen = singlePage{}
		if nextLink(resp) != "" {
			a.chosen = headerLink{}
		} else if o, ok := resp.Body.(*jsonx.Object); ok {
			for _, path := range []string{"next", "next_url", "links.next", "_links.next.href", "pagination.next", "meta.next", "paging.next"} {
				if v, _ := Select(o, path); v != nil {
					if s, ok := v.(string); ok && (strings.HasPrefix(s, "http") || strings.HasPrefix(s, "/")) {
						a.chosen = jsonLink{path: path}
						break
					}
				}
			}
		}
	}
	return a.chosen.next(resp, reqURL, p, records)
}

func clone(p url.Values) url.Values {
	out := url.Values{}
	for k, v := range p {
		out[k] = append([]string(nil), v...)
	}
	return out
}

func number(body any, path string) (int, bool) {
	v, ok := Select(body, path)
	if !ok {
		return 0, false
	}
	switch x := v.(type) {
	case int64:
		return int(x), true
	case float64:
		return int(x), true
	case string:
		n, err := strconv.Atoi(x)
		return n, err == nil
	}
	return 0, false
}

// Select reads a dotted path ("data.items", "$.meta.next", "items[0].id").
func Select(v any, path string) (any, bool) { return jsonx.Select(v, path) }

func scalarString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		// What dlt's str.format puts in for a datetime (a cursor
		// stored as one): Python's str(), in UTC.
		return schema.PyISOFormat(x, ' ')
	}
	b, _ := jsonx.Append(nil, v)
	return string(b)
}
