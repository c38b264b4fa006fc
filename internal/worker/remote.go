package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/dlthub/dlthub/internal/store"
)

// Remote is Control over HTTP: a worker on another machine talking to the
// control plane's worker endpoints (internal/server/workers.go) with a
// worker credential. It holds no database URL, bucket or master key; the
// configuration of a run comes opened, for the runs it holds only.
type Remote struct {
	// URL is the control plane's base URL (dlthub server --public-url).
	URL string
	// Token is the worker credential (dlthub server worker create).
	Token string
	// Instance names this worker process among the credential's (host:pid).
	Instance string
	Client   *http.Client
}

func (c *Remote) client() *http.Client {
	if c.Client != nil {
		return c.Client
	}
	return http.DefaultClient
}

// call sends one request; a 404 is store.ErrNotFound (a run not held, or
// ended), so the worker treats it as it treats the store's.
func (c *Remote) call(ctx context.Context, method, path string, body, out any) error {
	resp, err := c.do(ctx, method, path, body)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode == http.StatusNoContent || out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		if resp.StatusCode == http.StatusNoContent && out != nil {
			return store.ErrNotFound
		}
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(out); err != nil {
		return fmt.Errorf("control plane %s %s: unreadable answer: %w", method, path, err)
	}
	return nil
}

// do sends a request and checks its status; the caller closes the body.
func (c *Remote) do(ctx context.Context, method, path string, body any) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.URL, "/")+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("X-Dlthub-Worker", c.Instance)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.client().Do(req)
	if err != nil {
		return nil, fmt.Errorf("control plane %s %s: %w", method, path, err)
	}
	if resp.StatusCode < 300 {
		return resp, nil
	}
	defer func() { _ = resp.Body.Close() }()
	var e struct {
		Detail string `json:"detail"`
	}
	_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&e)
	if resp.StatusCode == http.StatusNotFound {
		return nil, fmt.Errorf("%s: %w", e.Detail, store.ErrNotFound)
	}
	return nil, fmt.Errorf("control plane %s %s: %s: %s", method, path, resp.Status, e.Detail)
}

func runPath(id, op string) string { return "/worker/v1/runs/" + url.PathEscape(id) + "/" + op }

// Claim implements Control.
func (c *Remote) Claim(ctx context.Context) (store.Run, error) {
	var r store.Run
	err := c.call(ctx, http.MethodPost, "/worker/v1/claim", nil, &r)
	return r, err
}

// Release implements Control.
func (c *Remote) Release(ctx context.Context, runID string) (Release, error) {
	var rel Release
	err := c.call(ctx, http.MethodGet, runPath(runID, "release"), nil, &rel)
	return rel, err
}

// Package implements Control.
func (c *Remote) Package(ctx context.Context, runID string) (io.ReadCloser, error) {
	resp, err := c.do(ctx, http.MethodGet, runPath(runID, "package"), nil)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// LastCompletedEnd implements Control.
func (c *Remote) LastCompletedEnd(ctx context.Context, runID, jobRef string) (*time.Time, error) {
	var out struct {
		End *time.Time `json:"end"`
	}
	err := c.call(ctx, http.MethodGet, runPath(runID, "last-completed")+"?job="+url.QueryEscape(jobRef), nil, &out)
	return out.End, err
}

// Start implements Control.
func (c *Remote) Start(ctx context.Context, runID string, start, end *time.Time) error {
	return c.call(ctx, http.MethodPost, runPath(runID, "start"), map[string]any{"start": start, "end": end}, nil)
}

// Watch implements Control.
func (c *Remote) Watch(ctx context.Context, runID string, beat bool) (store.Run, error) {
	var r store.Run
	err := c.call(ctx, http.MethodPost, runPath(runID, "watch"), map[string]any{"beat": beat}, &r)
	return r, err
}

// SetRunAddress implements Control.
func (c *Remote) SetRunAddress(ctx context.Context, runID, address string) error {
	return c.call(ctx, http.MethodPost, runPath(runID, "address"), map[string]any{"address": address}, nil)
}

// SetRunTableRows implements Control.
func (c *Remote) SetRunTableRows(ctx context.Context, runID string, rows map[string]int64) error {
	return c.call(ctx, http.MethodPost, runPath(runID, "rows"), map[string]any{"rows": rows}, nil)
}

// AppendRunLogs implements Control.
func (c *Remote) AppendRunLogs(ctx context.Context, runID string, lines []store.LogLine) error {
	return c.call(ctx, http.MethodPost, runPath(runID, "logs"), map[string]any{"lines": lines}, nil)
}

// Finish implements Control.
func (c *Remote) Finish(ctx context.Context, runID, status string, exitCode *int, reason string) error {
	return c.call(ctx, http.MethodPost, runPath(runID, "finish"), map[string]any{"status": status, "exit_code": exitCode, "reason": reason}, nil)
}

// Retry implements Control.
func (c *Remote) Retry(ctx context.Context, runID string) (bool, error) {
	var out struct {
		Queued bool `json:"queued"`
	}
	err := c.call(ctx, http.MethodPost, runPath(runID, "retry"), map[string]any{}, &out)
	return out.Queued, err
}

// HandBack implements Control.
func (c *Remote) HandBack(ctx context.Context, runID string) error {
	return c.call(ctx, http.MethodPost, runPath(runID, "hand-back"), map[string]any{}, nil)
}

// Hello checks the control plane takes the credential and returns the
// name this worker's runs are claimed under (CREDENTIAL/INSTANCE).
func (c *Remote) Hello(ctx context.Context) (string, error) {
	var out struct {
		Name string `json:"name"`
	}
	if err := c.call(ctx, http.MethodGet, "/worker/v1/hello", nil, &out); err != nil {
		return "", err
	}
	return out.Name, nil
}
