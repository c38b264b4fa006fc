package platform

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Run is one run of a deployed job.
type Run struct {
	ID                   string           `json:"id"`
	JobRef               string           `json:"job_ref"`
	Number               int              `json:"number"`
	Trigger              string           `json:"trigger"`
	Profile              string           `json:"profile"`
	Refresh              bool             `json:"refresh"`
	Status               string           `json:"status"`
	DeploymentVersion    int              `json:"deployment_version"`
	ConfigurationVersion int              `json:"configuration_version"`
	IntervalStart        *time.Time       `json:"interval_start,omitempty"`
	IntervalEnd          *time.Time       `json:"interval_end,omitempty"`
	CreatedAt            time.Time        `json:"created_at"`
	StartedAt            *time.Time       `json:"started_at,omitempty"`
	FinishedAt           *time.Time       `json:"finished_at,omitempty"`
	ExitCode             *int             `json:"exit_code,omitempty"`
	Reason               string           `json:"reason,omitempty"`
	Attempt              int              `json:"attempt"`
	TableRows            map[string]int64 `json:"table_rows,omitempty"`
}

// Done reports whether the run has ended.
func (r Run) Done() bool {
	switch r.Status {
	case "completed", "failed", "cancelled", "skipped":
		return true
	}
	return false
}

// LogLine is one line a run printed.
type LogLine struct {
	Seq    int64     `json:"seq"`
	At     time.Time `json:"at"`
	Stream string    `json:"stream"`
	Line   string    `json:"line"`
}

func runsPath(workspaceID string) string {
	return "/api/v1/workspaces/" + url.PathEscape(workspaceID) + "/runs"
}

// TriggerRun queues a manual run of a deployed job.
func (c *Client) TriggerRun(ctx context.Context, workspaceID, jobRef string, refresh bool) (Run, error) {
	var r Run
	err := c.do(ctx, http.MethodPost, "/api/v1/workspaces/"+url.PathEscape(workspaceID)+"/jobs/"+url.PathEscape(jobRef)+"/runs",
		jsonBody(map[string]bool{"refresh": refresh}), &r)
	return r, err
}

// Runs lists a workspace's runs (of one job when jobRef is set), newest
// first, at most max (0: all).
func (c *Client) Runs(ctx context.Context, workspaceID, jobRef string, max int) ([]Run, error) {
	p := runsPath(workspaceID)
	if jobRef != "" {
		p += "?job=" + url.QueryEscape(jobRef)
	}
	return list[Run](ctx, c, p, "runs", max)
}

// Run reads one run.
func (c *Client) Run(ctx context.Context, workspaceID, id string) (Run, error) {
	var r Run
	return r, c.do(ctx, http.MethodGet, runsPath(workspaceID)+"/"+url.PathEscape(id), nil, &r)
}

// CancelRun cancels a pending run or asks a running one to stop.
func (c *Client) CancelRun(ctx context.Context, workspaceID, id string) (Run, error) {
	var r Run
	return r, c.do(ctx, http.MethodPost, runsPath(workspaceID)+"/"+url.PathEscape(id)+"/cancel", nil, &r)
}

// FollowLogs calls fn with each line of a run's log after seq `after`;
// with follow it keeps going until the run ends, reconnecting (from the
// last line seen, so nothing is repeated or lost) when the connection
// drops. It returns the run as it was when the log ended.
func (c *Client) FollowLogs(ctx context.Context, workspaceID, id string, after int64, follow bool, fn func(LogLine)) (Run, error) {
	// No overall timeout: a followed log lasts as long as the run.
	hc := &http.Client{Transport: c.HTTP.Transport}
	failures := 0
	for {
		q := url.Values{"after": {strconv.FormatInt(after, 10)}, "follow": {strconv.FormatBool(follow)}}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.BaseURL+runsPath(workspaceID)+"/"+url.PathEscape(id)+"/logs?"+q.Encode(), nil)
		if err != nil {
			return Run{}, err
		}
		if c.Token != "" {
			req.Header.Set("Authorization", "Bearer "+c.Token)
		}
		run, done, err := c.readLogStream(hc, req, &after, fn)
		if done || (err == nil && !follow) {
			return run, err
		}
		var ae *APIError
		if errors.Is(err, ErrUnauthorized) || errors.As(err, &ae) || ctx.Err() != nil {
			return run, err
		}
		failures++
		if failures > 30 {
			return run, fmt.Errorf("the log stream keeps breaking: %w", err)
		}
		select {
		case <-ctx.Done():
			return run, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// readLogStream reads one response of the log stream; done when it ended
// with the run's end.
func (c *Client) readLogStream(hc *http.Client, req *http.Request, after *int64, fn func(LogLine)) (Run, bool, error) {
	resp, err := hc.Do(req)
	if err != nil {
		return Run{}, false, c.describe(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode == http.StatusUnauthorized {
		return Run{}, false, ErrUnauthorized
	}
	if resp.StatusCode >= 300 {
		e := &APIError{StatusCode: resp.StatusCode}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if json.Unmarshal(b, e) != nil || e.Detail == "" {
			e.Detail = http.StatusText(resp.StatusCode)
		}
		return Run{}, false, fmt.Errorf("GET %s: %w", req.URL.Path, e)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var rec struct {
			LogLine
			End bool `json:"end"`
			Run *Run `json:"run"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return Run{}, false, fmt.Errorf("log stream: %w", err)
		}
		if rec.Run != nil {
			return *rec.Run, rec.End, nil
		}
		if rec.Seq > *after {
			fn(rec.LogLine)
			*after = rec.Seq
		}
	}
	if err := sc.Err(); err != nil {
		return Run{}, false, err
	}
	return Run{}, false, io.ErrUnexpectedEOF
}

// ServeApp starts an interactive job (or finds the run serving it) and
// returns the run and the app's URL.
func (c *Client) ServeApp(ctx context.Context, workspaceID, jobRef string) (Run, string, error) {
	var out struct {
		Run Run    `json:"run"`
		URL string `json:"url"`
	}
	err := c.do(ctx, http.MethodPost, "/api/v1/workspaces/"+url.PathEscape(workspaceID)+"/jobs/"+url.PathEscape(jobRef)+"/serve", nil, &out)
	return out.Run, out.URL, err
}

// PublishApp makes a public link to an interactive job's app.
func (c *Client) PublishApp(ctx context.Context, workspaceID, jobRef string) (string, error) {
	var out struct {
		URL string `json:"url"`
	}
	err := c.do(ctx, http.MethodPost, "/api/v1/workspaces/"+url.PathEscape(workspaceID)+"/jobs/"+url.PathEscape(jobRef)+"/publish", nil, &out)
	return out.URL, err
}

// UnpublishApp withdraws an app's public links and says how many.
func (c *Client) UnpublishApp(ctx context.Context, workspaceID, jobRef string) (int, error) {
	var out struct {
		Revoked int `json:"revoked"`
	}
	err := c.do(ctx, http.MethodDelete, "/api/v1/workspaces/"+url.PathEscape(workspaceID)+"/jobs/"+url.PathEscape(jobRef)+"/publish", nil, &out)
	return out.Revoked, err
}
