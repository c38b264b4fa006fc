// Package rest is the rest_api source, dlt's declarative REST client in Go:
// a base URL with auth and a paginator, resources with an endpoint (path,
// params, JSON body, method, data selector), parent→child resources
// ({resources.issues.number} in a child's path or params), incremental
// cursors bound to query parameters, and retries with backoff on 429 and 5xx
// that honour Retry-After.
package rest

import (
	"fmt"
	"time"

	"github.com/dlthub/dlthub/internal/schema"
)

// Config is a rest_api source.
type Config struct {
	Client           ClientConfig
	ResourceDefaults ResourceConfig
	Resources        []ResourceConfig
}

// ClientConfig says how to talk to the API.
type ClientConfig struct {
	BaseURL   string
	Headers   map[string]string
	Auth      AuthConfig
	Paginator PaginatorConfig
	// Timeout per request (default 60s); MaxRetries on 429/5xx (default 5);
	// BackoffBase is the first retry's wait when no Retry-After is given.
	Timeout     time.Duration
	MaxRetries  int
	BackoffBase time.Duration
}

// AuthConfig is bearer, api_key, http_basic or oauth2_client_credentials.
type AuthConfig struct {
	Type string
	// bearer
	Token string
	// api_key
	Name     string
	APIKey   string
	Location string // header (default) or query
	// http_basic
	Username string
	Password string
	// oauth2_client_credentials
	AccessTokenURL string
	ClientID       string
	ClientSecret   string
	Scopes         []string
}

// PaginatorConfig picks a paginator. Type: auto (default), single_page,
// json_link, header_link, offset, page_number, cursor.
type PaginatorConfig struct {
	Type         string
	NextURLPath  string // json_link
	Limit        int    // offset
	OffsetParam  string // offset (default "offset")
	LimitParam   string // offset (default "limit")
	PageParam    string // page_number (default "page")
	BasePage     int    // page_number (default 1)
	TotalPath    string // offset, page_number: total items / pages in the body
	CursorPath   string // cursor: where the next cursor is in the body
	CursorParam  string // cursor: query parameter to send it in
	MaximumPages int    // stop after this many pages (0: no limit)
}

// ResourceConfig is one resource (or the defaults for all of them).
type ResourceConfig struct {
	Name              string
	Table             string
	Endpoint          EndpointConfig
	PrimaryKey        []string
	MergeKey          []string
	WriteDisposition  string
	MergeStrategy     string
	SCD2              *schema.SCD2Options
	IncludeFromParent []string
	Selected          *bool
}

// EndpointConfig is what to request.
type EndpointConfig struct {
	Path         string
	Method       string
	Params       map[string]any
	JSON         any
	DataSelector string
	Paginator    *PaginatorConfig
	Incremental  *IncrementalConfig
}

// IncrementalConfig binds an incremental cursor to query parameters.
type IncrementalConfig struct {
	StartParam   string
	EndParam     string
	CursorPath   string
	InitialValue any
	EndValue     any
}

func (c *Config) validate() error {
	if c.Client.BaseURL == "" {
		return fmt.Errorf("client.base_url is missing")
	}
	if len(c.Resources) == 0 {
		return fmt.Errorf("resources is empty: add at least one resource")
	}
	seen := map[string]bool{}
	for _, r := range c.Resources {
		if r.Name == "" {
			return fmt.Errorf("a resource has no name")
		}
		if seen[r.Name] {
			return fmt.Errorf("two resources are named %q", r.Name)
		}
		seen[r.Name] = true
	}
	return nil
}
