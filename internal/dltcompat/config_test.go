package dltcompat

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/dlthub/dlthub/internal/config"
	"github.com/dlthub/dlthub/internal/python/pythontest"
)

// configCases is how many generated configuration cases are compared.
const configCases = 200

// configDump is what config_driver.py writes.
type configDump struct {
	DltVersion string                    `json:"dlt_version"`
	Cases      map[string][]ConfigResult `json:"cases"`
}

// runConfigDlt writes the cases under dir and resolves them all in one
// dlt interpreter.
func runConfigDlt(t *testing.T, cases []ConfigCase, dir string) configDump {
	t.Helper()
	py := pythontest.Find(t)
	for i := range cases {
		if err := WriteConfigCase(&cases[i], filepath.Join(dir, cases[i].Name)); err != nil {
			t.Fatal(err)
		}
	}
	b, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	in, out := filepath.Join(dir, "cases.json"), filepath.Join(dir, "dlt.json")
	if err := os.WriteFile(in, b, 0o644); err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(dir, "driver-home")
	if err := os.Mkdir(home, 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py.Python, "config_driver.py", in, out)
	cmd.Env = append(os.Environ(), "HOME="+home)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("dlt config driver: %v\n%s", err, msg)
	}
	b, err = os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var d configDump
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	return d
}

// loadConfigDifferences reads the deliberate configuration differences:
// rules CompareConfigResult knows, each with the reason it is deliberate.
func loadConfigDifferences(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "config-differences.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ds []ConfigDifference
	if err := json.Unmarshal(b, &ds); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, d := range ds {
		if d.Why == "" {
			t.Fatalf("config-differences.json: rule %s has no reason", d.Rule)
		}
		out[d.Rule] = d.Why
	}
	return out
}

// TestConfigMatchesDlt resolves every generated case's keys with dlt and
// with internal/config and compares them key by key: the value, where it
// came from (provider, key and file, as far as dlt says) and the lookups
// made on the way, in order.
func TestConfigMatchesDlt(t *testing.T) {
	cases := GenerateConfigCases(1, configCases)
	diffs := loadConfigDifferences(t)
	allowed := map[string]bool{}
	for r := range diffs {
		allowed[r] = true
	}
	dump := runConfigDlt(t, cases, t.TempDir())
	checkConfigDltVersion(t, dump.DltVersion)
	used := map[string]int{}
	lookups := 0
	// seen counts what the lookups ran into, to show the matrix covers it.
	seen := map[string]int{}
	for _, c := range cases {
		want, ok := dump.Cases[c.Name]
		if !ok || len(want) != len(c.Lookups) {
			t.Fatalf("%s: dlt resolved %d of %d keys", c.Name, len(want), len(c.Lookups))
		}
		got, err := ResolveConfig(c)
		if err != nil {
			t.Fatal(err)
		}
		var report []string
		for i, lk := range c.Lookups {
			lookups++
			countConfigResult(seen, lk, got[i])
			d := CompareConfigResult(want[i], got[i], allowed, func(r string) { used[r]++ })
			if len(d) == 0 {
				continue
			}
			where := lk.Key
			if lk.Pipeline != "" {
				where += " [pipeline " + lk.Pipeline + "]"
			}
			report = append(report, fmt.Sprintf("key %s:\n  %s", where, strings.Join(d, "\n  ")))
		}
		if len(report) > 0 {
			t.Errorf("case %s differs from dlt:\n%s\n%s", c.Name, strings.Join(report, "\n"), DescribeConfigCase(c))
		}
	}
	var rules []string
	for r := range diffs {
		rules = append(rules, r)
	}
	sort.Strings(rules)
	for _, r := range rules {
		if used[r] == 0 {
			t.Errorf("deliberate difference %s never happened: remove it from testdata/config-differences.json (or make the generator exercise it)", r)
		}
	}
	t.Logf("%d cases, %d lookups; deliberate differences: %v; covered: %v", len(cases), lookups, used, seen)
}

// countConfigResult tallies where a lookup's value came from.
func countConfigResult(seen map[string]int, lk ConfigLookup, r ConfigResult) {
	switch {
	case r.Error != "":
		seen["error "+r.Error]++
	case !r.Found:
		seen["not found"]++
	case r.SecretFile:
		seen["secret file"]++
	case r.Location != "":
		seen[r.Location]++
	default:
		seen[r.Provider]++
	}
	if r.Found && lk.Pipeline != "" && strings.HasPrefix(strings.ToLower(r.Lookup), lk.Pipeline) {
		seen["pipeline-prefixed"]++
	}
	if m, ok := r.Value.(map[string]any); ok {
		for typ := range m {
			seen["type "+typ]++
		}
	}
}

// checkConfigDltVersion fails when the dlt that resolved the cases is not
// the one they were last checked against (testdata/dlt-version, shared
// with the data harness).
func checkConfigDltVersion(t *testing.T, ran string) {
	t.Helper()
	checked, err := os.ReadFile(filepath.Join("testdata", "dlt-version"))
	if err != nil {
		t.Fatal(err)
	}
	if ran != strings.TrimSpace(string(checked)) {
		t.Fatalf("dlt %s resolved the configuration cases, but they were checked against dlt %s: review testdata/config-differences.json and docs/dlt-differences.md, then write %s into testdata/dlt-version",
			ran, strings.TrimSpace(string(checked)), ran)
	}
}

// The generator makes the same cases from the same seed, and others from
// another, and each case has keys to look up.
func TestConfigGenerateIsDeterministic(t *testing.T) {
	a, _ := json.Marshal(GenerateConfigCases(7, 30))
	b, _ := json.Marshal(GenerateConfigCases(7, 30))
	c, _ := json.Marshal(GenerateConfigCases(8, 30))
	if string(a) != string(b) {
		t.Error("two runs of seed 7 differ")
	}
	if string(a) == string(c) {
		t.Error("seeds 7 and 8 made the same cases")
	}
	for _, cs := range GenerateConfigCases(1, configCases) {
		if len(cs.Lookups) == 0 {
			t.Errorf("%s has no lookups", cs.Name)
		}
	}
}

// TestConfigHarnessCatchesABrokenRule breaks two lookup rules (runtime.*
// popped to a bare key; config.toml asked before secrets.toml) and checks
// that comparing with the unbroken resolver reports each, readably.
func TestConfigHarnessCatchesABrokenRule(t *testing.T) {
	c := ConfigCase{
		Name: "broken", Profile: "dev",
		Files: map[string]string{
			"ws/.dlt/secrets.toml":  "[runtime]\nlog_level = \"ERROR\"\n[sources.github]\nper_page = 10\n",
			"home/.dlt/config.toml": "[sources.github]\nper_page = 50\n",
		},
		Env: map[string]string{"LOG_LEVEL": "DEBUG"},
		Lookups: []ConfigLookup{
			{Key: "runtime.log_level", Section: "runtime", Name: "log_level", Explicit: []string{}},
			{Key: "sources.github.per_page", Explicit: []string{"sources", "github"}, Name: "per_page"},
		},
	}
	if err := WriteConfigCase(&c, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	want, err := ResolveConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	same, err := ResolveConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if d := CompareConfigResult(want[i], same[i], nil, nil); len(d) != 0 {
			t.Fatalf("two runs of one case differ:\n%s", strings.Join(d, "\n"))
		}
	}
	got, err := resolveConfigWith(c, func(r *config.Resolver, k *config.Key) {
		k.Sections, k.Fixed = append(k.Sections, k.Fixed...), nil
		if r.Providers[1].Name() == config.SecretsProviderName {
			r.Providers[1], r.Providers[2] = r.Providers[2], r.Providers[1]
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	var d []string
	for i := range want {
		d = append(d, CompareConfigResult(want[i], got[i], nil, nil)...)
	}
	diff := strings.Join(d, "\n")
	for _, w := range []string{
		"source:\n    dlt:  secrets.toml runtime.log_level (secrets.toml)\n    ours: Environment Variables LOG_LEVEL",
		"value:\n    dlt:  {\"str\":\"ERROR\"}\n    ours: {\"str\":\"DEBUG\"}",
		"lookups, in order:\n    dlt:  Environment Variables:RUNTIME__LOG_LEVEL, secrets.toml:runtime.log_level\n    ours: Environment Variables:RUNTIME__LOG_LEVEL, Environment Variables:LOG_LEVEL",
		"source:\n    dlt:  secrets.toml sources.github.per_page (secrets.toml)\n    ours: config.toml sources.github.per_page (global:config.toml)",
		"value:\n    dlt:  {\"int\":\"10\"}\n    ours: {\"int\":\"50\"}",
	} {
		if !strings.Contains(diff, w) {
			t.Errorf("the diff does not say %q:\n%s", w, diff)
		}
	}
}
