// Package platform is the CLI's client for the control plane (a dlthub
// server or dltHub): endpoint discovery from the RFC 8414 metadata, the
// RFC 8628 device login through golang.org/x/oauth2, and the JSON API with
// its {status_code, detail} errors turned into messages a user can act on.
package platform

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// DefaultBaseURL is dltHub's API; a self-hosted server is set with
// runtime.api_base_url.
const DefaultBaseURL = "https://api.dlthub.com"

// ClientID names the CLI to the authorization server.
const ClientID = "dlthub-cli"

// Client talks to one control plane.
type Client struct {
	BaseURL string
	Token   string
	HTTP    *http.Client
	// PageSize is how many items a list asks for per page (0: the
	// server's maximum, 500).
	PageSize int
}

// New returns a client for baseURL with a bounded per-request timeout.
func New(baseURL, token string) *Client {
	return &Client{BaseURL: strings.TrimSuffix(baseURL, "/"), Token: token, HTTP: &http.Client{Timeout: 30 * time.Second}}
}

// APIError is an error response from the API.
type APIError struct {
	StatusCode int            `json:"status_code"`
	Detail     string         `json:"detail"`
	Extra      map[string]any `json:"extra,omitempty"`
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s (HTTP %d)", e.Detail, e.StatusCode)
}

// ErrUnauthorized is returned for HTTP 401: no token, or an expired or
// revoked one.
var ErrUnauthorized = errors.New("not logged in or the token expired: run `dlthub login` (or set RUNTIME__API_KEY)")

// Metadata is the part of the authorization server metadata the CLI uses.
type Metadata struct {
	Issuer                      string `json:"issuer"`
	DeviceAuthorizationEndpoint string `json:"device_authorization_endpoint"`
	TokenEndpoint               string `json:"token_endpoint"`
	RevocationEndpoint          string `json:"revocation_endpoint"`
}

// Discover reads the authorization server metadata.
func (c *Client) Discover(ctx context.Context) (Metadata, error) {
	var m Metadata
	if err := c.do(ctx, http.MethodGet, "/.well-known/oauth-authorization-server", nil, &m); err != nil {
		return m, err
	}
	if m.DeviceAuthorizationEndpoint == "" || m.TokenEndpoint == "" {
		return m, fmt.Errorf("%s does not offer device login (no device_authorization_endpoint in its metadata)", c.BaseURL)
	}
	return m, nil
}

func (c *Client) oauthConfig(m Metadata) *oauth2.Config {
	return &oauth2.Config{ClientID: ClientID, Endpoint: oauth2.Endpoint{
		DeviceAuthURL: m.DeviceAuthorizationEndpoint, TokenURL: m.TokenEndpoint, AuthStyle: oauth2.AuthStyleInParams}}
}

// StartDeviceLogin asks for a device and user code.
func (c *Client) StartDeviceLogin(ctx context.Context) (*oauth2.DeviceAuthResponse, error) {
	m, err := c.Discover(ctx)
	if err != nil {
		return nil, err
	}
	da, err := c.oauthConfig(m).DeviceAuth(c.oauthContext(ctx))
	if err != nil {
		return nil, c.describe(err)
	}
	return da, nil
}

// WaitDeviceLogin polls the token endpoint at the server's interval
// (backing off on slow_down) until the user approves, denies or the code
// expires, and returns the access token.
func (c *Client) WaitDeviceLogin(ctx context.Context, da *oauth2.DeviceAuthResponse) (string, error) {
	m, err := c.Discover(ctx)
	if err != nil {
		return "", err
	}
	tok, err := c.oauthConfig(m).DeviceAccessToken(c.oauthContext(ctx), da)
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			switch re.ErrorCode {
			case "access_denied":
				return "", errors.New("the login was denied in the browser")
			case "expired_token":
				return "", errors.New("the login code expired before it was approved: run `dlthub login` again")
			case "invalid_grant":
				return "", errors.New("the login code is unknown or was already used: run `dlthub login` again")
			}
		}
		return "", c.describe(err)
	}
	return tok.AccessToken, nil
}

func (c *Client) oauthContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, c.HTTP)
}

// Revoke ends the client's token on the server (RFC 7009). Servers without
// a revocation endpoint are left alone: the token then lives until expiry.
func (c *Client) Revoke(ctx context.Context) (bool, error) {
	m, err := c.Discover(ctx)
	if err != nil {
		return false, err
	}
	if m.RevocationEndpoint == "" {
		return false, nil
	}
	form := url.Values{"token": {c.Token}, "client_id": {ClientID}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.RevocationEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return false, c.describe(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("revoke token: HTTP %d", resp.StatusCode)
	}
	return true, nil
}

// User is the signed-in user.
type User struct {
	ID            string         `json:"id"`
	Email         string         `json:"email"`
	Name          string         `json:"name"`
	Organizations []Organization `json:"organizations"`
}

// Organization is one of the user's organizations with their role in it.
type Organization struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Role string `json:"role"`
}

// Me returns the user the token belongs to.
func (c *Client) Me(ctx context.Context) (User, error) {
	var u User
	return u, c.do(ctx, http.MethodGet, "/api/v1/me", nil, &u)
}

// Workspace is a remote workspace with the caller's role in it.
type Workspace struct {
	ID             string    `json:"id"`
	Name           string    `json:"name"`
	OrganizationID string    `json:"organization_id"`
	Organization   string    `json:"organization_name"`
	Role           string    `json:"role"`
	Repository     string    `json:"repository,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
}

// Workspaces lists the caller's workspaces, ordered by organization.
func (c *Client) Workspaces(ctx context.Context) ([]Workspace, error) {
	return list[Workspace](ctx, c, "/api/v1/workspaces", "workspaces", 0)
}

// Workspace reads one workspace.
func (c *Client) Workspace(ctx context.Context, id string) (Workspace, error) {
	var w Workspace
	return w, c.do(ctx, http.MethodGet, "/api/v1/workspaces/"+url.PathEscape(id), nil, &w)
}

// CreateWorkspace creates a workspace in an organization.
func (c *Client) CreateWorkspace(ctx context.Context, orgID, name string) (Workspace, error) {
	var w Workspace
	return w, c.do(ctx, http.MethodPost, "/api/v1/workspaces", jsonBody(map[string]string{"organization_id": orgID, "name": name}), &w)
}

// BindRepository binds a repository to a workspace and returns the
// workspace it was bound to before ("" if none) and how many of the jobs
// there were deactivated.
func (c *Client) BindRepository(ctx context.Context, workspaceID, repository string) (previous string, deactivated int, err error) {
	var out struct {
		Previous    string `json:"previous_workspace_id"`
		Deactivated int    `json:"deactivated_jobs"`
	}
	err = c.do(ctx, http.MethodPut, "/api/v1/workspaces/"+url.PathEscape(workspaceID)+"/repository", jsonBody(map[string]string{"repository": repository}), &out)
	return out.Previous, out.Deactivated, err
}

// Deployment is one version of a workspace's code.
type Deployment struct {
	ID          string    `json:"id"`
	Version     int       `json:"version"`
	ContentHash string    `json:"content_hash"`
	Files       int       `json:"files"`
	Size        int64     `json:"size"`
	CreatedBy   string    `json:"created_by"`
	CreatedAt   time.Time `json:"created_at"`
}

// Deployments lists a workspace's deployments, the active one first.
func (c *Client) Deployments(ctx context.Context, workspaceID string) ([]Deployment, error) {
	return list[Deployment](ctx, c, "/api/v1/workspaces/"+url.PathEscape(workspaceID)+"/deployments", "deployments", 0)
}

// ActiveDeployment is a workspace's newest deployment, nil when it has none.
func (c *Client) ActiveDeployment(ctx context.Context, workspaceID string) (*Deployment, error) {
	l, err := list[Deployment](ctx, c, "/api/v1/workspaces/"+url.PathEscape(workspaceID)+"/deployments", "deployments", 1)
	if err != nil || len(l) == 0 {
		return nil, err
	}
	return &l[0], nil
}

// DeployedFile is one file of a deployed version.
type DeployedFile struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	Mode   uint32 `json:"mode"`
	SHA256 string `json:"sha256"`
}

// DeploymentFiles lists one deployed version's files, following the
// listing's pages.
func (c *Client) DeploymentFiles(ctx context.Context, workspaceID string, version int) ([]DeployedFile, error) {
	var files []DeployedFile
	cursor := ""
	for {
		var out struct {
			Files      []DeployedFile `json:"files"`
			NextCursor string         `json:"next_cursor"`
		}
		p := fmt.Sprintf("/api/v1/workspaces/%s/deployments/%d/files?limit=5000", url.PathEscape(workspaceID), version)
		if cursor != "" {
			p += "&cursor=" + url.QueryEscape(cursor)
		}
		if err := c.do(ctx, http.MethodGet, p, nil, &out); err != nil {
			return files, err
		}
		files = append(files, out.Files...)
		if out.NextCursor == "" || out.NextCursor == cursor {
			return files, nil
		}
		cursor = out.NextCursor
	}
}

// Deploy uploads a package (tar.gz) with the content hash the client
// computed; unchanged reports that the server already had this code active.
func (c *Client) Deploy(ctx context.Context, workspaceID string, pkg io.Reader, hash string) (d Deployment, unchanged bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BaseURL+"/api/v1/workspaces/"+url.PathEscape(workspaceID)+"/deployments", pkg)
	if err != nil {
		return d, false, err
	}
	req.Header.Set("Content-Type", "application/gzip")
	req.Header.Set("X-Content-Hash", hash)
	var out struct {
		Deployment Deployment `json:"deployment"`
		Unchanged  bool       `json:"unchanged"`
	}
	// Uploads take as long as the link needs; the context bounds them.
	hc := *c.HTTP
	hc.Timeout = 0
	cc := *c
	cc.HTTP = &hc
	err = cc.send(req, &out)
	return out.Deployment, out.Unchanged, err
}

// ConfigFile is one configuration file to sync.
type ConfigFile struct {
	Name    string `json:"name"`
	Content string `json:"content"`
}

// Configuration is one synced configuration version (file names only).
type Configuration struct {
	ID        string    `json:"id"`
	Version   int       `json:"version"`
	Files     []string  `json:"files"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// SyncConfiguration sends the configuration files; unchanged reports that
// the active version already had exactly these.
func (c *Client) SyncConfiguration(ctx context.Context, workspaceID string, files []ConfigFile) (Configuration, bool, error) {
	var out struct {
		Configuration Configuration `json:"configuration"`
		Unchanged     bool          `json:"unchanged"`
	}
	b, err := json.Marshal(map[string]any{"files": files})
	if err != nil {
		return out.Configuration, false, err
	}
	err = c.do(ctx, http.MethodPost, "/api/v1/workspaces/"+url.PathEscape(workspaceID)+"/configurations", bytes.NewReader(b), &out)
	return out.Configuration, out.Unchanged, err
}

// ConfigDiff is what a sync would change in one file, by key name only.
type ConfigDiff struct {
	Name    string   `json:"name"`
	State   string   `json:"state"`
	Added   []string `json:"added,omitempty"`
	Removed []string `json:"removed,omitempty"`
	Changed []string `json:"changed,omitempty"`
}

// DiffConfiguration asks what syncing files would change; nothing is stored.
func (c *Client) DiffConfiguration(ctx context.Context, workspaceID string, files []ConfigFile) ([]ConfigDiff, error) {
	var out struct {
		Files []ConfigDiff `json:"files"`
	}
	b, err := json.Marshal(map[string]any{"files": files, "dry_run": true})
	if err != nil {
		return nil, err
	}
	err = c.do(ctx, http.MethodPost, "/api/v1/workspaces/"+url.PathEscape(workspaceID)+"/configurations", bytes.NewReader(b), &out)
	return out.Files, err
}

// Configurations lists synced configuration versions, the active one first.
func (c *Client) Configurations(ctx context.Context, workspaceID string) ([]Configuration, error) {
	return list[Configuration](ctx, c, "/api/v1/workspaces/"+url.PathEscape(workspaceID)+"/configurations", "configurations", 0)
}

// JobSpec is one job sent to reconcile: its ref, hash and expanded spec.
type JobSpec struct {
	Ref  string          `json:"job_ref"`
	Hash string          `json:"hash"`
	Spec json.RawMessage `json:"spec"`
}

// DeployedJob is a job on the server.
type DeployedJob struct {
	Ref    string `json:"job_ref"`
	Hash   string `json:"hash"`
	Active bool   `json:"active"`
	// Spec is the expanded job as deployed (jobs.ExpandedJob).
	Spec       json.RawMessage `json:"spec"`
	UpdatedAt  time.Time       `json:"updated_at"`
	DeployedAt time.Time       `json:"deployed_at"`
}

// JobChange is what reconcile did to a job: added, updated, unchanged or
// archived.
type JobChange struct {
	Ref    string `json:"job_ref"`
	Action string `json:"action"`
}

// ReconcileJobs makes jobs the workspace's active jobs.
func (c *Client) ReconcileJobs(ctx context.Context, workspaceID string, jobs []JobSpec) ([]JobChange, error) {
	var out struct {
		Changes []JobChange `json:"changes"`
	}
	if jobs == nil {
		jobs = []JobSpec{}
	}
	b, err := json.Marshal(map[string]any{"jobs": jobs})
	if err != nil {
		return nil, err
	}
	err = c.do(ctx, http.MethodPut, "/api/v1/workspaces/"+url.PathEscape(workspaceID)+"/jobs", bytes.NewReader(b), &out)
	return out.Changes, err
}

// Jobs lists the workspace's deployed jobs.
func (c *Client) Jobs(ctx context.Context, workspaceID string) ([]DeployedJob, error) {
	return list[DeployedJob](ctx, c, "/api/v1/workspaces/"+url.PathEscape(workspaceID)+"/jobs", "jobs", 0)
}

// list reads a paged list, following next_cursor: every item when max is
// 0, else at most max.
func list[T any](ctx context.Context, c *Client, path, field string, max int) ([]T, error) {
	var all []T
	cursor := ""
	pageSize := c.PageSize
	if pageSize <= 0 {
		pageSize = 500
	}
	for {
		limit := pageSize
		if max > 0 && max-len(all) < limit {
			limit = max - len(all)
		}
		q := url.Values{"limit": {strconv.Itoa(limit)}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page map[string]json.RawMessage
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		if err := c.do(ctx, http.MethodGet, path+sep+q.Encode(), nil, &page); err != nil {
			return all, err
		}
		var items []T
		if err := json.Unmarshal(page[field], &items); err != nil {
			return all, fmt.Errorf("GET %s: %q in the answer: %w", path, field, err)
		}
		all = append(all, items...)
		cursor = ""
		if raw, ok := page["next_cursor"]; ok {
			_ = json.Unmarshal(raw, &cursor)
		}
		if cursor == "" || (max > 0 && len(all) >= max) || len(items) == 0 {
			return all, nil
		}
	}
}

func jsonBody(v any) io.Reader {
	b, _ := json.Marshal(v) // maps of strings always marshal
	return bytes.NewReader(b)
}

// do sends a JSON request and decodes a JSON response into out.
func (c *Client) do(ctx context.Context, method, path string, body io.Reader, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, body)
	if err != nil {
		return fmt.Errorf("api_base_url %q: %w", c.BaseURL, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return c.send(req, out)
}

// send adds the token, sends req and decodes the JSON answer into out.
func (c *Client) send(req *http.Request, out any) error {
	method, path := req.Method, req.URL.Path
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return c.describe(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode == http.StatusUnauthorized {
		return ErrUnauthorized
	}
	if resp.StatusCode >= 300 {
		e := &APIError{StatusCode: resp.StatusCode}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if json.Unmarshal(b, e) != nil || e.Detail == "" {
			e.Detail = strings.TrimSpace(string(b))
			if e.Detail == "" {
				e.Detail = http.StatusText(resp.StatusCode)
			}
		}
		return fmt.Errorf("%s %s: %w", method, path, e)
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: the server's answer is not the JSON expected: %w", method, path, err)
	}
	return nil
}

// describe turns transport errors into advice.
func (c *Client) describe(err error) error {
	var ne net.Error
	var oe *net.OpError
	if errors.As(err, &oe) || (errors.As(err, &ne) && ne.Timeout()) {
		return fmt.Errorf("cannot reach %s (%w): is the server running? point the CLI at it with `dlthub config set runtime.api_base_url URL`", c.BaseURL, err)
	}
	return err
}
