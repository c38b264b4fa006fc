package rest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"iter"
	"net/url"
	"regexp"
	"strings"

	"github.com/dlthub/dlthub/internal/jsonx"
	"github.com/dlthub/dlthub/internal/pipeline"
)

var placeholder = regexp.MustCompile(`\{(resources\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_.\[\]-]+)|incremental\.start_value|incremental\.end_value)\}`)

// Resources builds the pipeline resources of a rest_api source, parents
// before their children.
func Resources(cfg Config) ([]*pipeline.Resource, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cl := newClient(cfg.Client)
	return build(cfg, cl)
}

// resolved is one resource with the defaults applied.
type resolved struct {
	ResourceConfig
	parent string
	rows   *[]*jsonx.Object // records of a parent, kept for its children
}

func merge(def, r ResourceConfig) ResourceConfig {
	out := r
	if out.WriteDisposition == "" {
		out.WriteDisposition = def.WriteDisposition
	}
	if out.MergeStrategy == "" {
		out.MergeStrategy = def.MergeStrategy
	}
	if out.SCD2 == nil {
		out.SCD2 = def.SCD2
	}
	if out.PrimaryKey == nil {
		out.PrimaryKey = def.PrimaryKey
	}
	if out.MergeKey == nil {
		out.MergeKey = def.MergeKey
	}
	if out.Endpoint.Path == "" {
		out.Endpoint.Path = r.Name
	}
	if out.Endpoint.Method == "" {
		out.Endpoint.Method = def.Endpoint.Method
	}
	if out.Endpoint.DataSelector == "" {
		out.Endpoint.DataSelector = def.Endpoint.DataSelector
	}
	if out.Endpoint.Paginator == nil {
		out.Endpoint.Paginator = def.Endpoint.Paginator
	}
	if out.Endpoint.Incremental == nil {
		out.Endpoint.Incremental = def.Endpoint.Incremental
	}
	params := map[string]any{}
	for k, v := range def.Endpoint.Params {
		params[k] = v
	}
	for k, v := range r.Endpoint.Params {
		params[k] = v
	}
	out.Endpoint.Params = params
	return out
}

func build(cfg Config, cl *client) ([]*pipeline.Resource, error) {
	byName := map[string]*resolved{}
	var order []*resolved
	for _, r := range cfg.Resources {
		rr := &resolved{ResourceConfig: merge(cfg.ResourceDefaults, r)}
		var parents []string
		scan := func(s string) {
			for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
				if m[2] != "" {
					parents = append(parents, m[2])
				}
			}
		}
		scan(rr.Endpoint.Path)
		for _, v := range rr.Endpoint.Params {
			if s, ok := v.(string); ok {
				scan(s)
			}
		}
		for _, p := range parents {
			if rr.parent != "" && rr.parent != p {
				return nil, fmt.Errorf("resource %q refers to two parents (%s, %s); one parent per resource", r.Name, rr.parent, p)
			}
			rr.parent = p
		}
		byName[r.Name] = rr
		order = append(order, rr)
	}
	// Parents first; a parent keeps its records for its children.
	var sorted []*resolved
	done := map[string]bool{}
	var visit func(r *resolved, depth int) error
	visit = func(r *resolved, depth int) error {
		if done[r.Name] {
			return nil
		}
		if depth > len(order) {
			return fmt.Errorf("resource %q: parents form a cycle", r.Name)
		}
		if r.parent != "" {
			p, ok := byName[r.parent]
			if !ok {
				return fmt.Errorf("resource %q refers to {resources.%s…}, which is not a resource of this source", r.Name, r.parent)
			}
			if p.rows == nil {
				p.rows = &[]*jsonx.Object{}
			}
			if err := visit(p, depth+1); err != nil {
				return err
			}
		}
		done[r.Name] = true
		sorted = append(sorted, r)
		return nil
	}
	for _, r := range order {
		if err := visit(r, 0); err != nil {
			return nil, err
		}
	}
	var out []*pipeline.Resource
	for _, r := range sorted {
		pr := &pipeline.Resource{
			Name: r.Name, Table: r.Table, WriteDisposition: r.WriteDisposition, MergeStrategy: r.MergeStrategy, SCD2: r.SCD2,
			PrimaryKey: r.PrimaryKey, MergeKey: r.MergeKey,
		}
		if inc := r.Endpoint.Incremental; inc != nil {
			if inc.CursorPath == "" {
				return nil, fmt.Errorf("resource %q: incremental needs cursor_path", r.Name)
			}
			pr.Incremental = &pipeline.Incremental{CursorPath: inc.CursorPath, InitialValue: inc.InitialValue, EndValue: inc.EndValue}
		}
		if r.Selected != nil && !*r.Selected {
			// Not loaded itself; its children fetch it.
			continue
		}
		res := r
		pr.Records = func(ctx context.Context, rc *pipeline.ResourceContext) iter.Seq2[any, error] {
			return func(yield func(any, error) bool) {
				if res.parent == "" {
					if res.rows != nil && rc != nil {
						// Children see the records the engine keeps.
						rc.OnKept = func(rec any) {
							if o, ok := rec.(*jsonx.Object); ok {
								*res.rows = append(*res.rows, o)
							}
						}
					}
					for rec, err := range fetch(ctx, cl, res, nil, rc) {
						if err != nil {
							yield(nil, err)
							return
						}
						if !yield(rec, nil) {
							return
						}
					}
					return
				}
				parent := byName[res.parent]
				parents := parent.rows
				if parent.Selected != nil && !*parent.Selected {
					// The parent is not loaded: fetch it here.
					var rows []*jsonx.Object
					for rec, err := range fetch(ctx, cl, parent, nil, nil) {
						if err != nil {
							yield(nil, err)
							return
						}
						rows = append(rows, rec)
					}
					parents = &rows
				}
				for _, p := range *parents {
					for rec, err := range fetch(ctx, cl, res, p, rc) {
						if err != nil {
							yield(nil, err)
							return
						}
						for _, f := range res.IncludeFromParent {
							if v, ok := Select(p, f); ok {
								rec.Set("_"+res.parent+"_"+strings.ReplaceAll(f, ".", "_"), v)
							}
						}
						if !yield(rec, nil) {
							return
						}
					}
				}
			}
		}
		out = append(out, pr)
	}
	return out, nil
}

// fetch requests every page of a resource (for one parent record) and
// yields its records.
func fetch(ctx context.Context, cl *client, r *resolved, parent *jsonx.Object, rc *pipeline.ResourceContext) iter.Seq2[*jsonx.Object, error] {
	return func(yield func(*jsonx.Object, error) bool) {
		fail := func(err error) { yield(nil, fmt.Errorf("resource %q: %w", r.Name, err)) }
		var start, end any
		if rc != nil && rc.Incremental != nil {
			start, end = rc.Incremental.StartValue(), rc.Incremental.EndValue()
		}
		subst := func(s string) (string, error) {
			var err error
			out := placeholder.ReplaceAllStringFunc(s, func(m string) string {
				sub := placeholder.FindStringSubmatch(m)
				switch sub[1] {
				case "incremental.start_value":
					return scalarString(start)
				case "incremental.end_value":
					return scalarString(end)
				}
				v, ok := Select(parent, sub[3])
				if !ok || v == nil {
					err = fmt.Errorf("parent record of %q has no field %q for %s", r.parent, sub[3], m)
					return ""
				}
				return scalarString(v)
			})
			return out, err
		}
		path, err := subst(r.Endpoint.Path)
		if err != nil {
			fail(err)
			return
		}
		reqURL, err := cl.resolve(path)
		if err != nil {
			fail(err)
			return
		}
		params := url.Values{}
		for k, v := range r.Endpoint.Params {
			s, ok := v.(string)
			if !ok {
				s = scalarString(v)
			}
			if s, err = subst(s); err != nil {
				fail(err)
				return
			}
			params.Set(k, s)
		}
		if inc := r.Endpoint.Incremental; inc != nil {
			if inc.StartParam != "" && start != nil {
				params.Set(inc.StartParam, scalarString(start))
			}
			if inc.EndParam != "" && end != nil {
				params.Set(inc.EndParam, scalarString(end))
			}
		}
		pcfg := cl.cfg.Paginator
		if r.Endpoint.Paginator != nil {
			pcfg = *r.Endpoint.Paginator
		}
		pg, err := newPaginator(pcfg)
		if err != nil {
			fail(err)
			return
		}
		pg.first(params)
		method := r.Endpoint.Method
		if method == "" {
			method = "GET"
		}
		// Requests already made: a next page that is one of them would be
		// read again and again (a paginator loop in the API's answers).
		// They are keyed by the URL as sent, so a next link that spells
		// the first request's parameters in its query is one of them too.
		seen := map[[sha256.Size]byte]bool{}
		key := func(reqURL string, params url.Values) [sha256.Size]byte {
			if u, err := requestURL(reqURL, params); err == nil {
				return sha256.Sum256([]byte(u.String()))
			}
			return sha256.Sum256([]byte(reqURL + "\x00" + params.Encode()))
		}
		for page := 1; ; page++ {
			seen[key(reqURL, params)] = true
			resp, err := cl.do(ctx, method, reqURL, params, r.Endpoint.JSON)
			if err != nil {
				fail(err)
				return
			}
			if rc != nil {
				rc.Pages++
			}
			recs, err := records(resp.Body, r.Endpoint.DataSelector)
			if err != nil {
				fail(fmt.Errorf("%s %s: %w", method, reqURL, err))
				return
			}
			for _, rec := range recs {
				if !yield(rec, nil) {
					return
				}
			}
			if pcfg.MaximumPages > 0 && page >= pcfg.MaximumPages {
				return
			}
			nextURL, nextParams, ok, err := pg.next(resp, resp.URL, params, len(recs))
			if err != nil {
				fail(err)
				return
			}
			if !ok {
				return
			}
			if nextParams == nil {
				// A next link carries its own query.
				reqURL, params = nextURL, url.Values{}
			} else {
				reqURL, params = nextURL, nextParams
				if u, err := url.Parse(reqURL); err == nil {
					u.RawQuery = ""
					reqURL = u.String()
				}
			}
			if seen[key(reqURL, params)] {
				if len(recs) == 0 {
					return // an empty last page that points to itself
				}
				fail(fmt.Errorf("pagination loop: after page %d the API points to a page already read (%s); stopping instead of reading it again", page, reqURL))
				return
			}
		}
	}
}

// records applies the data selector: a path, or by default the body if it
// is a list, else the one list under a usual key, else the body as one
// record.
func records(body any, selector string) ([]*jsonx.Object, error) {
	if body == nil {
		return nil, nil
	}
	v := body
	if selector != "" {
		var ok bool
		if v, ok = Select(body, selector); !ok {
			return nil, fmt.Errorf("data_selector %q matches nothing in the response", selector)
		}
	} else if o, ok := body.(*jsonx.Object); ok {
		for _, k := range []string{"data", "items", "results", "records", "entries", "values", "hits"} {
			if l, ok := o.Get(k); ok {
				if _, isList := l.([]any); isList {
					v = l
					break
				}
			}
		}
	}
	switch x := v.(type) {
	case []any:
		out := make([]*jsonx.Object, 0, len(x))
		for i, e := range x {
			o, ok := e.(*jsonx.Object)
			if !ok {
				return nil, fmt.Errorf("item %d of the response data is not an object", i)
			}
			out = append(out, o)
		}
		return out, nil
	case *jsonx.Object:
		return []*jsonx.Object{x}, nil
	case nil:
		return nil, nil
	}
	return nil, fmt.Errorf("the response data is not a list or object")
}
