// Package samples holds data shipped inside the binary: a real page of 100
// GitHub issues (the duckdb/duckdb repository, the page dlt uses in its own
// normalizer tests) for the quickstart's sample pipeline, and for the
// conformance test against dlt's schema for it.
package samples

import _ "embed"

// GitHubIssues returns the sample page: a JSON array of 100 issues.
func GitHubIssues() []byte { return githubIssues }

//go:embed github_issues.json
var githubIssues []byte
