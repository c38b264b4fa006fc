package rest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dlthub/dlthub/internal/jsonx"
)

// client sends requests with auth, timeouts and retries.
type client struct {
	cfg  ClientConfig
	http *http.Client
	// sleep waits between retries (tests shorten it).
	sleep func(ctx context.Context, d time.Duration) error

	mu          sync.Mutex
	oauthToken  string
	oauthExpiry time.Time
}

func newClient(cfg ClientConfig) *client {
	if cfg.Timeout == 0 {
		cfg.Timeout = 60 * time.Second
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = 5
	}
	if cfg.BackoffBase == 0 {
		cfg.BackoffBase = time.Second
	}
	return &client{cfg: cfg, http: &http.Client{Timeout: cfg.Timeout}, sleep: sleepCtx}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// response is a decoded response.
type response struct {
	URL    string
	Header http.Header
	Body   any
}

// HTTPError is a response that was not a success after retries.
type HTTPError struct {
	Method, URL string
	Status      int
	Body        string
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.URL, e.Status, e.Body)
}

// resolve joins a path to the base URL.
func (c *client) resolve(path string) (string, error) {
	if strings.HasPrefix(path, "http://") || strings.HasPrefix(path, "https://") {
		return path, nil
	}
	base, err := url.Parse(c.cfg.BaseURL)
	if err != nil {
		return "", fmt.Errorf("client.base_url %q: %w", c.cfg.BaseURL, err)
	}
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
	}
	ref, err := url.Parse(strings.TrimPrefix(path, "/"))
	if err != nil {
		return "", fmt.Errorf("path %q: %w", path, err)
	}
	return base.ResolveReference(ref).String(), nil
}

// requestURL is the URL a request for rawURL with params goes to: params
// replace the same keys in rawURL's query.
func requestURL(rawURL string, params url.Values) (*url.URL, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	if len(params) > 0 {
		q := u.Query()
		for k, vs := range params {
			q.Del(k)
			for _, v := range vs {
				q.Add(k, v)
			}
		}
		u.RawQuery = q.Encode()
	}
	return u, nil
}

// do sends one request (with retries) and decodes the JSON body.
func (c *client) do(ctx context.Context, method, rawURL string, params url.Values, body any) (*response, error) {
	u, err := requestURL(rawURL, params)
	if err != nil {
		return nil, err
	}
	if c.cfg.Auth.Type == "api_key" && c.cfg.Auth.Location == "query" {
		q := u.Query()
		q.Set(c.cfg.Auth.Name, c.cfg.Auth.APIKey)
		u.RawQuery = q.Encode()
	}
	var payload []byte
	if body != nil {
		if payload, err = json.Marshal(body); err != nil {
			return nil, fmt.Errorf("encode JSON body: %w", err)
		}
	}
	shown := redactURL(u, c.cfg.Auth)
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(payload))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "application/json")
		if payload != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		for k, v := range c.cfg.Headers {
			req.Header.Set(k, v)
		}
		if err := c.authorize(ctx, req); err != nil {
			return nil, err
		}
		resp, err := c.http.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if attempt < c.cfg.MaxRetries {
				if err := c.sleep(ctx, c.backoff(attempt, "")); err != nil {
					return nil, err
				}
				continue
			}
			return nil, fmt.Errorf("%s %s: %w", method, shown, err)
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, 512<<20))
		_ = resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("%s %s: read body: %w", method, shown, err)
		}
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
			if attempt < c.cfg.MaxRetries {
				if err := c.sleep(ctx, c.backoff(attempt, resp.Header.Get("Retry-After"))); err != nil {
					return nil, err
				}
				continue
			}
		}
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			return nil, &HTTPError{Method: method, URL: shown, Status: resp.StatusCode, Body: snippet(data)}
		}
		if len(bytes.TrimSpace(data)) == 0 {
			return &response{URL: u.String(), Header: resp.Header}, nil
		}
		v, err := jsonx.Parse(data)
		if err != nil {
			return nil, fmt.Errorf("%s %s: the response is not JSON (Content-Type %q): %w; it starts with %q", method, shown, resp.Header.Get("Content-Type"), err, snippet(data))
		}
		return &response{URL: u.String(), Header: resp.Header, Body: v}, nil
	}
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// redactURL hides an API key sent in the query string.
func redactURL(u *url.URL, a AuthConfig) string {
	if a.Type == "api_key" && a.Location == "query" {
		c := *u
		q := c.Query()
		if q.Has(a.Name) {
			q.Set(a.Name, "****")
			c.RawQuery = q.Encode()
		}
		return c.String()
	}
	return u.String()
}

// backoff is the wait before retry attempt+1: Retry-After when the server
// gave one (seconds or an HTTP date), else exponential from BackoffBase.
func (c *client) backoff(attempt int, retryAfter string) time.Duration {
	if retryAfter != "" {
		if s, err := strconv.Atoi(strings.TrimSpace(retryAfter)); err == nil && s >= 0 {
			return time.Duration(s) * time.Second
		}
		if t, err := http.ParseTime(retryAfter); err == nil {
			if d := time.Until(t); d > 0 {
				return d
			}
			return 0
		}
	}
	d := c.cfg.BackoffBase << attempt
	if d > time.Minute {
		d = time.Minute
	}
	return d
}

func (c *client) authorize(ctx context.Context, req *http.Request) error {
	a := c.cfg.Auth
	switch a.Type {
	case "":
	case "bearer":
		req.Header.Set("Authorization", "Bearer "+a.Token)
	case "api_key":
		if a.Location != "query" {
			name := a.Name
			if name == "" {
				name = "Authorization"
			}
			req.Header.Set(name, a.APIKey)
		}
	case "http_basic":
		req.SetBasicAuth(a.Username, a.Password)
	case "oauth2_client_credentials":
		tok, err := c.oauth2Token(ctx)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	default:
		return fmt.Errorf("auth type %q: use bearer, api_key, http_basic or oauth2_client_credentials", a.Type)
	}
	return nil
}

// oauth2Token gets (and caches until shortly before expiry) a token with
// the client credentials grant.
func (c *client) oauth2Token(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.oauthToken != "" && time.Now().Before(c.oauthExpiry) {
		return c.oauthToken, nil
	}
	a := c.cfg.Auth
	form := url.Values{"grant_type": {"client_credentials"}}
	if len(a.Scopes) > 0 {
		form.Set("scope", strings.Join(a.Scopes, " "))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.AccessTokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("oauth2: access_token_url %q: %w", a.AccessTokenURL, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(a.ClientID)+":"+url.QueryEscape(a.ClientSecret))))
	resp, err := c.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("oauth2: get token from %s: %w", a.AccessTokenURL, err)
	}
	defer func() { _ = resp.Body.Close() }()
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("oauth2: token endpoint %s answered HTTP %d: %s", a.AccessTokenURL, resp.StatusCode, snippet(data))
	}
	if err := json.Unmarshal(data, &tok); err != nil || tok.AccessToken == "" {
		return "", errors.New("oauth2: the token endpoint's answer has no access_token")
	}
	c.oauthToken = tok.AccessToken
	exp := time.Duration(tok.ExpiresIn) * time.Second
	if exp <= 0 {
		exp = time.Hour
	}
	c.oauthExpiry = time.Now().Add(exp - exp/10)
	return c.oauthToken, nil
}
