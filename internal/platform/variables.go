package platform

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// Variable is an environment variable runs get; a secret's value is never
// sent back.
type Variable struct {
	Name      string    `json:"name"`
	Profile   string    `json:"profile,omitempty"`
	Secret    bool      `json:"secret"`
	Value     string    `json:"value,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

func variablesPath(workspaceID string) string {
	return "/api/v1/workspaces/" + url.PathEscape(workspaceID) + "/variables"
}

// Variables lists a workspace's variables.
func (c *Client) Variables(ctx context.Context, workspaceID string) ([]Variable, error) {
	return list[Variable](ctx, c, variablesPath(workspaceID), "variables", 0)
}

// SetVariable creates or replaces a variable for the workspace (profile
// "") or one profile.
func (c *Client) SetVariable(ctx context.Context, workspaceID, name, value, profile string, secret bool) (Variable, error) {
	var v Variable
	body := map[string]any{"value": value, "secret": secret, "profile": profile}
	return v, c.do(ctx, http.MethodPut, variablesPath(workspaceID)+"/"+url.PathEscape(name), jsonBody(body), &v)
}

// DeleteVariable removes a variable.
func (c *Client) DeleteVariable(ctx context.Context, workspaceID, name, profile string) error {
	q := ""
	if profile != "" {
		q = "?profile=" + url.QueryEscape(profile)
	}
	return c.do(ctx, http.MethodDelete, variablesPath(workspaceID)+"/"+url.PathEscape(name)+q, nil, nil)
}
