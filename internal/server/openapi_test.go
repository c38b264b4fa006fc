package server

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"
)

// The OpenAPI document served describes exactly the /api/v1 routes.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	s, ts := newServer(t, nil)
	resp, err := http.Get(ts.URL + "/api/v1/openapi.json")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%v %v", resp, err)
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("not an OpenAPI document: %v %q", err, doc.OpenAPI)
	}
	var documented []string
	for path, ops := range doc.Paths {
		for method, op := range ops {
			if method == "parameters" {
				continue
			}
			documented = append(documented, strings.ToUpper(method)+" "+path)
			var o map[string]any
			if err := json.Unmarshal(op, &o); err != nil || o["summary"] == nil || o["responses"] == nil {
				t.Errorf("%s %s lacks summary or responses", method, path)
			}
		}
	}
	routes := append([]string{}, s.apiRoutes...)
	sort.Strings(documented)
	sort.Strings(routes)
	if strings.Join(documented, "\n") != strings.Join(routes, "\n") {
		t.Errorf("documented:\n%s\nserved:\n%s", strings.Join(documented, "\n"), strings.Join(routes, "\n"))
	}
}
