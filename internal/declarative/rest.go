package declarative

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/dlthub/dlthub/internal/config"
	"github.com/dlthub/dlthub/internal/pipeline"
	"github.com/dlthub/dlthub/internal/source/rest"
)

func restKeys() map[string]any {
	return map[string]any{"type": nil, "client": nil, "resource_defaults": nil, "resources": nil}
}

// restSecretKeys are auth settings that must come from secrets, never from
// the pipeline file.
func restSecretKeys() []string { return []string{"token", "api_key", "password", "client_secret"} }

// restResources builds a rest_api source.
func (s *Spec) restResources(r *config.Resolver) ([]*pipeline.Resource, error) {
	cfg := rest.Config{}
	client, _ := s.source["client"].(map[string]any)
	if client == nil {
		return nil, fmt.Errorf("%s: [source.client] with base_url is missing", s.Path)
	}
	if err := checkKeys(s.Path, "source.client.", client, map[string]any{"base_url": nil, "headers": nil, "auth": nil, "paginator": nil, "timeout": nil, "max_retries": nil}); err != nil {
		return nil, err
	}
	cfg.Client.BaseURL, _ = client["base_url"].(string)
	if cfg.Client.BaseURL == "" {
		v, err := s.setting(r, "base_url")
		if err != nil {
			return nil, err
		}
		cfg.Client.BaseURL, _ = v.(string)
	}
	if h, ok := client["headers"].(map[string]any); ok {
		cfg.Client.Headers = map[string]string{}
		for k, v := range h {
			cfg.Client.Headers[k] = fmt.Sprint(v)
		}
	}
	if v, ok := client["timeout"]; ok {
		switch x := v.(type) {
		case int64:
			cfg.Client.Timeout = time.Duration(x) * time.Second
		case float64:
			cfg.Client.Timeout = time.Duration(x * float64(time.Second))
		default:
			return nil, fmt.Errorf("%s: source.client.timeout must be a number of seconds", s.Path)
		}
	}
	if v, ok := client["max_retries"].(int64); ok {
		cfg.Client.MaxRetries = int(v)
	}
	if a, ok := client["auth"]; ok {
		auth, err := s.restAuth(r, a)
		if err != nil {
			return nil, err
		}
		cfg.Client.Auth = auth
	}
	if p, ok := client["paginator"]; ok {
		pg, err := s.restPaginator("source.client.paginator", p)
		if err != nil {
			return nil, err
		}
		cfg.Client.Paginator = *pg
	}
	if d, ok := s.source["resource_defaults"].(map[string]any); ok {
		rc, err := s.restResource("source.resource_defaults", d, true)
		if err != nil {
			return nil, err
		}
		cfg.ResourceDefaults = rc
	}
	list, ok := s.source["resources"].([]any)
	if !ok || len(list) == 0 {
		return nil, fmt.Errorf("%s: source.resources is missing: add [[source.resources]] tables or a list of names", s.Path)
	}
	hints := map[string]map[string]any{}
	for i, item := range list {
		var m map[string]any
		switch x := item.(type) {
		case string:
			m = map[string]any{"name": x}
		case map[string]any:
			m = x
		default:
			return nil, fmt.Errorf("%s: source.resources[%d] must be a name or a table", s.Path, i)
		}
		rc, err := s.restResource(fmt.Sprintf("source.resources[%d]", i), m, false)
		if err != nil {
			return nil, err
		}
		cfg.Resources = append(cfg.Resources, rc)
		hints[rc.Name] = m
	}
	res, err := rest.Resources(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.Path, err)
	}
	defaults, _ := s.source["resource_defaults"].(map[string]any)
	for _, pr := range res {
		for _, m := range []map[string]any{defaults, hints[pr.Name]} {
			if m == nil {
				continue
			}
			sub := map[string]any{}
			for _, k := range []string{"schema_contract", "max_table_nesting", "columns"} {
				if v, ok := m[k]; ok {
					sub[k] = v
				}
			}
			if err := s.applyHints(pr, sub); err != nil {
				return nil, err
			}
		}
	}
	return res, nil
}

// setting reads sources.<name>.<key> from configuration.
func (s *Spec) setting(r *config.Resolver, key string) (any, error) {
	if r == nil {
		return nil, nil
	}
	res, err := r.Lookup(config.Key{Fixed: []string{"sources", s.Name}, Name: key, Secret: config.IsSecretKey(key)})
	if err != nil || !res.Found {
		return nil, err
	}
	return res.Value, nil
}

func (s *Spec) restAuth(r *config.Resolver, v any) (rest.AuthConfig, error) {
	var a rest.AuthConfig
	m, ok := v.(map[string]any)
	if !ok {
		return a, fmt.Errorf("%s: source.client.auth must be a table such as { type = \"bearer\" }", s.Path)
	}
	if err := checkKeys(s.Path, "source.client.auth.", m, map[string]any{"type": nil, "name": nil, "location": nil, "username": nil, "access_token_url": nil, "client_id": nil, "scopes": nil,
		"token": nil, "api_key": nil, "password": nil, "client_secret": nil}); err != nil {
		return a, err
	}
	for _, k := range restSecretKeys() {
		if _, ok := m[k]; ok {
			return a, fmt.Errorf("%s: source.client.auth.%s is a secret and must not be in the pipeline file; put it in .dlt/secrets.toml as [sources.%s] %s = \"...\"", s.Path, k, s.Name, k)
		}
	}
	a.Type, _ = m["type"].(string)
	a.Name, _ = m["name"].(string)
	a.Location, _ = m["location"].(string)
	a.Username, _ = m["username"].(string)
	a.AccessTokenURL, _ = m["access_token_url"].(string)
	a.ClientID, _ = m["client_id"].(string)
	for _, sc := range asList(m["scopes"]) {
		a.Scopes = append(a.Scopes, fmt.Sprint(sc))
	}
	need := map[string]*string{}
	switch a.Type {
	case "bearer":
		need["token"] = &a.Token
	case "api_key":
		need["api_key"] = &a.APIKey
		if a.Name == "" {
			a.Name = "Authorization"
		}
	case "http_basic":
		need["password"] = &a.Password
		if a.Username == "" {
			need["username"] = &a.Username
		}
	case "oauth2_client_credentials":
		need["client_secret"] = &a.ClientSecret
		if a.ClientID == "" {
			need["client_id"] = &a.ClientID
		}
	default:
		return a, fmt.Errorf("%s: source.client.auth.type %q: use bearer, api_key, http_basic or oauth2_client_credentials", s.Path, a.Type)
	}
	keys := make([]string, 0, len(need))
	for k := range need {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if r == nil {
			return a, fmt.Errorf("%s: auth %s needs sources.%s.%s from configuration", s.Path, a.Type, s.Name, k)
		}
		res, err := r.Require(config.Key{Fixed: []string{"sources", s.Name}, Name: k, Secret: config.IsSecretKey(k)})
		if err != nil {
			return a, err
		}
		*need[k] = fmt.Sprint(res.Value)
	}
	return a, nil
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func (s *Spec) restPaginator(where string, v any) (*rest.PaginatorConfig, error) {
	switch x := v.(type) {
	case string:
		return &rest.PaginatorConfig{Type: x}, nil
	case map[string]any:
		if err := checkKeys(s.Path, where+".", x, map[string]any{"type": nil, "next_url_path": nil, "limit": nil, "offset_param": nil, "limit_param": nil,
			"page_param": nil, "base_page": nil, "total_path": nil, "cursor_path": nil, "cursor_param": nil, "maximum_pages": nil}); err != nil {
			return nil, err
		}
		p := &rest.PaginatorConfig{}
		p.Type, _ = x["type"].(string)
		p.NextURLPath, _ = x["next_url_path"].(string)
		p.OffsetParam, _ = x["offset_param"].(string)
		p.LimitParam, _ = x["limit_param"].(string)
		p.PageParam, _ = x["page_param"].(string)
		p.TotalPath, _ = x["total_path"].(string)
		p.CursorPath, _ = x["cursor_path"].(string)
		p.CursorParam, _ = x["cursor_param"].(string)
		for key, dst := range map[string]*int{"limit": &p.Limit, "base_page": &p.BasePage, "maximum_pages": &p.MaximumPages} {
			if n, ok := x[key].(int64); ok {
				*dst = int(n)
			}
		}
		return p, nil
	}
	return nil, fmt.Errorf("%s: %s must be a paginator name or a table", s.Path, where)
}

func (s *Spec) restResource(where string, m map[string]any, defaults bool) (rest.ResourceConfig, error) {
	var rc rest.ResourceConfig
	known := map[string]any{"name": nil, "table_name": nil, "endpoint": nil, "include_from_parent": nil, "selected": nil}
	for k := range hintKeys() {
		known[k] = nil
	}
	if err := checkKeys(s.Path, where+".", m, known); err != nil {
		return rc, err
	}
	rc.Name, _ = m["name"].(string)
	if rc.Name == "" && !defaults {
		return rc, fmt.Errorf("%s: %s has no name", s.Path, where)
	}
	rc.Table, _ = m["table_name"].(string)
	var err error
	tmp := &pipeline.Resource{}
	if err := s.applyHints(tmp, map[string]any{"write_disposition": m["write_disposition"], "merge_strategy": m["merge_strategy"],
		"primary_key": m["primary_key"], "merge_key": m["merge_key"]}); err != nil {
		return rc, err
	}
	rc.WriteDisposition, rc.MergeStrategy, rc.SCD2 = tmp.WriteDisposition, tmp.MergeStrategy, tmp.SCD2
	rc.PrimaryKey, rc.MergeKey = tmp.PrimaryKey, tmp.MergeKey
	for _, f := range asList(m["include_from_parent"]) {
		rc.IncludeFromParent = append(rc.IncludeFromParent, fmt.Sprint(f))
	}
	if b, ok := m["selected"].(bool); ok {
		rc.Selected = &b
	}
	switch e := m["endpoint"].(type) {
	case nil:
	case string:
		rc.Endpoint.Path = e
	case map[string]any:
		if err := checkKeys(s.Path, where+".endpoint.", e, map[string]any{"path": nil, "method": nil, "params": nil, "json": nil, "data_selector": nil, "paginator": nil, "incremental": nil}); err != nil {
			return rc, err
		}
		rc.Endpoint.Path, _ = e["path"].(string)
		rc.Endpoint.Method, _ = e["method"].(string)
		rc.Endpoint.Method = strings.ToUpper(rc.Endpoint.Method)
		rc.Endpoint.Params, _ = e["params"].(map[string]any)
		rc.Endpoint.JSON = e["json"]
		rc.Endpoint.DataSelector, _ = e["data_selector"].(string)
		if p, ok := e["paginator"]; ok {
			if rc.Endpoint.Paginator, err = s.restPaginator(where+".endpoint.paginator", p); err != nil {
				return rc, err
			}
		}
		if inc, ok := e["incremental"].(map[string]any); ok {
			if err := checkKeys(s.Path, where+".endpoint.incremental.", inc, map[string]any{"start_param": nil, "end_param": nil, "cursor_path": nil, "initial_value": nil, "end_value": nil}); err != nil {
				return rc, err
			}
			ic := &rest.IncrementalConfig{InitialValue: inc["initial_value"], EndValue: inc["end_value"]}
			ic.StartParam, _ = inc["start_param"].(string)
			ic.EndParam, _ = inc["end_param"].(string)
			ic.CursorPath, _ = inc["cursor_path"].(string)
			rc.Endpoint.Incremental = ic
		}
	default:
		return rc, fmt.Errorf("%s: %s.endpoint must be a path or a table", s.Path, where)
	}
	return rc, nil
}
