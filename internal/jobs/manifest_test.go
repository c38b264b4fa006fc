package jobs

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\n got:\n%s\nwant:\n%s", name, got, want)
	}
}

// TestInvalidManifests: each file in testdata/invalid is a broken manifest;
// its golden .err file holds the exact error.
func TestInvalidManifests(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "invalid", "*.toml"))
	if len(files) < 10 {
		t.Fatalf("only %d invalid manifests", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Parse(b, "dlthub.toml")
			if err == nil {
				t.Fatal("accepted")
			}
			golden(t, filepath.Join("invalid", strings.TrimSuffix(filepath.Base(f), ".toml")+".err"), err.Error()+"\n")
		})
	}
}

func TestExpandedManifest(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "rich.toml"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Parse(b, "dlthub.toml")
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.MarshalIndent(m.Expand(), "", "  ")
	golden(t, "rich.expanded.json", string(out)+"\n")
	// Hashes change with content and only with content.
	m2, _ := Parse(b, "dlthub.toml")
	if m.Expand().Hash != m2.Expand().Hash {
		t.Error("hash not stable")
	}
	m2.Jobs[0].Description = "changed"
	if m.Expand().Hash == m2.Expand().Hash || m.Expand().Jobs[0].Hash == m2.Expand().Jobs[0].Hash || m.Expand().Jobs[1].Hash != m2.Expand().Jobs[1].Hash {
		t.Error("hash does not follow content")
	}
}

func TestTriggers(t *testing.T) {
	cases := []struct {
		in, canon, describe string
	}{
		{"0 3 * * *", "schedule:0 3 * * *", "on schedule 0 3 * * *"},
		{"@daily", "schedule:@daily", "on schedule @daily"},
		{"schedule:*/15 * * * *", "schedule:*/15 * * * *", "on schedule */15 * * * *"},
		{"every:90m", "every:90m", "every 90m"},
		{"every:120m", "every:2h", "every 2h"},
		{"every:1d", "every:1d", "every 1d"},
		{"once:2025-01-01T10:00:00+02:00", "once:2025-01-01T08:00:00Z", "once at 2025-01-01T08:00:00Z"},
		{"http:8080/app", "http:8080/app", "HTTP on port 8080/app"},
		{"job.success:jobs.a.b", "job.success:jobs.a.b", "after jobs.a.b succeeds"},
		{"job.fail:jobs.a.b", "job.fail:jobs.a.b", "after jobs.a.b fails"},
		{"tag:nightly", "tag:nightly", "with tag nightly"},
		{"deployment:", "deployment:", "on deployment"},
	}
	for _, tc := range cases {
		tr, err := ParseTrigger(tc.in)
		if err != nil || tr.String() != tc.canon || tr.Describe() != tc.describe {
			t.Errorf("%q: %q %q %v", tc.in, tr.String(), tr.Describe(), err)
		}
	}
	for _, bad := range []string{"every:30s", "every:5x", "cron:0 3 * * *", "0 25 * * *", "once:tomorrow", "http:99999", "job.success:nope", "tag:"} {
		if _, err := ParseTrigger(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	tr, _ := ParseTrigger("every:5m")
	if tr.Every != 5*time.Minute {
		t.Error(tr.Every)
	}
}

func TestSelectors(t *testing.T) {
	b, _ := os.ReadFile(filepath.Join("testdata", "rich.toml"))
	m, err := Parse(b, "dlthub.toml")
	if err != nil {
		t.Fatal(err)
	}
	refs := func(sel string) string {
		js, err := m.Select(sel)
		if err != nil {
			return "error: " + err.Error()
		}
		var out []string
		for _, j := range js {
			out = append(out, j.Ref)
		}
		return strings.Join(out, ",")
	}
	cases := map[string]string{
		"batch":                "jobs.ingest.github,jobs.ingest.shop,jobs.transform.daily",
		"interactive":          "jobs.apps.dashboard",
		"schedule:*":           "jobs.ingest.github",
		"every:*":              "jobs.ingest.shop",
		"tag:ingest":           "jobs.ingest.github,jobs.ingest.shop",
		"manual:jobs.ingest.*": "jobs.ingest.github,jobs.ingest.shop",
		"jobs.ingest.*":        "jobs.ingest.github,jobs.ingest.shop",
		"github":               "jobs.ingest.github",
		"ingest.shop":          "jobs.ingest.shop",
		"jobs.transform.daily": "jobs.transform.daily",
		"job.success:*":        "jobs.transform.daily",
	}
	// The control plane selects over the expanded jobs it stores; the
	// answers are the same.
	expanded := m.Expand().Jobs
	expandedRefs := func(sel string) string {
		js, err := SelectExpanded(expanded, sel)
		if err != nil {
			return "error: " + err.Error()
		}
		var out []string
		for _, j := range js {
			out = append(out, j.JobRef)
		}
		return strings.Join(out, ",")
	}
	for sel, want := range cases {
		if got := refs(sel); got != want {
			t.Errorf("%q: %s, want %s", sel, got, want)
		}
		if got := expandedRefs(sel); got != want {
			t.Errorf("expanded %q: %s, want %s", sel, got, want)
		}
	}
	if got := expandedRefs("githb"); !strings.Contains(got, "did you mean jobs.ingest.github") {
		t.Errorf("expanded typo: %s", got)
	}
	if _, err := m.Select("githb"); err == nil || !strings.Contains(err.Error(), "did you mean jobs.ingest.github") {
		t.Errorf("typo: %v", err)
	}
	if _, err := m.SelectOne("tag:ingest"); err == nil || !strings.Contains(err.Error(), "matches 2 jobs: jobs.ingest.github, jobs.ingest.shop") {
		t.Errorf("ambiguity: %v", err)
	}
	var ve *ValidationError
	if _, err := Parse([]byte("[jobs.a.b]\npipeline = \"x\"\ntriger = [\"every:5m\"]\n"), "dlthub.toml"); !errors.As(err, &ve) {
		t.Errorf("typo key: %v", err)
	}
}

// A job rebuilt from its expanded form expands to the same thing.
func TestFromExpandedRoundTrip(t *testing.T) {
	b, _ := os.ReadFile(filepath.Join("testdata", "rich.toml"))
	m, err := Parse(b, "dlthub.toml")
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range m.Expand().Jobs {
		// As stored by the control plane: JSON.
		var stored ExpandedJob
		b, _ := json.Marshal(x)
		if err := json.Unmarshal(b, &stored); err != nil {
			t.Fatal(err)
		}
		j, err := FromExpanded(&stored)
		if err != nil {
			t.Fatal(err)
		}
		again := (&Manifest{Jobs: []*Job{j}}).Expand().Jobs[0]
		// Tags are not needed to run a job and are not rebuilt.
		x2, a2 := *x, *again
		x2.Expose, a2.Expose, x2.Hash, a2.Hash = nil, nil, "", ""
		gotB, _ := json.Marshal(a2)
		wantB, _ := json.Marshal(x2)
		if got, want := string(gotB), string(wantB); got != want {
			t.Errorf("%s:\n got %s\nwant %s", x.JobRef, got, want)
		}
		if j.Execute.Timeout == 0 || j.Location() == nil {
			t.Errorf("%s: %+v", x.JobRef, j.Execute)
		}
	}
}

func TestRetries(t *testing.T) {
	m, err := Parse([]byte("[jobs.a.b]\ncommand = [\"x\"]\nexecute = { retries = 2 }\n\n[jobs.a.c]\ncommand = [\"x\"]\n"), "dlthub.toml")
	if err != nil {
		t.Fatal(err)
	}
	e := m.Expand()
	if e.Jobs[0].Execute["retries"] != 2 || e.Jobs[1].Execute["retries"] != nil {
		t.Errorf("expanded: %v / %v", e.Jobs[0].Execute, e.Jobs[1].Execute)
	}
	for _, bad := range []string{"11", "-1", `"2"`} {
		_, err := Parse([]byte("[jobs.a.b]\ncommand = [\"x\"]\nexecute = { retries = "+bad+" }\n"), "dlthub.toml")
		if err == nil || !strings.Contains(err.Error(), "execute.retries: want a whole number from 0 to 10") {
			t.Errorf("retries = %s: %v", bad, err)
		}
	}
}

// TestEmptyTagRefused: an empty expose tag made a "tag:" trigger that the
// control plane could not read back from the deployed spec (found by
// FuzzParseManifest); it is now a validation problem.
func TestEmptyTagRefused(t *testing.T) {
	for _, tags := range []string{`""`, `["ok", ""]`, `[" spaced "]`} {
		_, err := Parse([]byte("[jobs.a.b]\ncommand = [\"x\"]\nexpose = { tags = "+tags+" }\n"), "dlthub.toml")
		var ve *ValidationError
		if !errors.As(err, &ve) || !strings.Contains(err.Error(), "jobs.a.b: expose.tags") {
			t.Errorf("tags = %s: %v", tags, err)
		}
	}
	if _, err := Parse([]byte("[jobs.a.b]\ncommand = [\"x\"]\nexpose = { tags = [\"ingest\", \"shop-2\"] }\n"), "dlthub.toml"); err != nil {
		t.Errorf("good tags: %v", err)
	}
}
