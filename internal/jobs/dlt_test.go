package jobs

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// A manifest as dlt 1.31's manifest worker prints it (shapes from
// dlt/_workspace/deployment/typing.py), with the forms the decorators
// normalize to: timeout as {timeout, grace_period}, concurrency null,
// module-level jobs (jobs.<name>), freshness and dependency groups.
const workerOut = `{"manifest":{"engine_version":2,"created_at":"2026-12-05T08:39:03+00:00","deployment_module":"__deployment__",
"description":"Example workspace.","tags":["team-a"],"jobs":[
{"engine_version":2,"job_ref":"jobs.__deployment__.ingest","entry_point":{"module":"__deployment__","function":"ingest","job_type":"batch","launcher":"dlt._workspace.deployment.launchers.job"},
 "triggers":["every:1h"],"execute":{"timeout":{"timeout":14400.0,"grace_period":10},"concurrency":null},"expose":{"tags":["ingest"],"category":"pipeline","manual":true,"starred":true},
 "deliver":{"pipeline_name":"github"},"interval":{"start":"2024-01-01T00:00:00+00:00"},"require":{"timezone":"Europe/Berlin","profile":"prod"},"default_trigger":"every:1h"},
{"engine_version":2,"job_ref":"jobs.__deployment__.report","entry_point":{"module":"__deployment__","function":"report","job_type":"batch","launcher":"dlt._workspace.deployment.launchers.job"},
 "triggers":["job.success:jobs.__deployment__.ingest"],"execute":{"concurrency":2},"freshness":["job.is_fresh:jobs.__deployment__.ingest"],
 "require":{"dependency_groups":["reports"]},"refresh_propagation":"block","expose":{"manual":false}},
{"engine_version":2,"job_ref":"jobs.github_pipeline","entry_point":{"module":"github_pipeline","function":null,"job_type":"batch","launcher":"dlt._workspace.deployment.launchers.module"},
 "triggers":[],"execute":{},"description":"Loads a few rows.","expose":{"manual":true}},
{"engine_version":2,"job_ref":"jobs.workspace.dashboard","entry_point":{"module":"dlt._workspace.helpers.dashboard.dlt_dashboard","function":null,"job_type":"interactive","launcher":"dlt._workspace.deployment.launchers.dashboard"},
 "expose":{"interface":"gui","category":"dashboard","manual":true},"triggers":["http:"],"execute":{"concurrency":1},"require":{"dependency_groups":["jobs.workspace.dashboard"]},"default_trigger":"http:"}
]},"warnings":["name 'x' is not a recognized job"]}`

func TestParseWorkerOutput(t *testing.T) {
	m, warnings, err := ParseWorkerOutput([]byte(workerOut), "__deployment__.py")
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || m.Description != "Example workspace." || len(m.Jobs) != 4 {
		t.Fatalf("manifest: %+v %v", m, warnings)
	}
	in, rep, mod, dash := m.Jobs[0], m.Jobs[1], m.Jobs[2], m.Jobs[3]
	if in.Section != "__deployment__" || in.Name != "ingest" || in.Execute.Timeout != 4*time.Hour || in.Execute.GracePeriod != 10*time.Second ||
		in.Execute.Concurrency != UnlimitedConcurrency || in.Deliver != "github" || !in.Expose.Starred || in.Interval == nil || in.Require.Timezone != "Europe/Berlin" ||
		in.Require.Profile != "prod" || in.DefaultTrigger().String() != "every:1h" {
		t.Errorf("ingest: %+v", in)
	}
	if rep.Execute.Concurrency != 2 || rep.Refresh != "block" || rep.Expose.Manual || len(rep.Freshness) != 1 || rep.Freshness[0] != "jobs.__deployment__.ingest" ||
		strings.Join(rep.Require.DependencyGroups, ",") != "reports" {
		t.Errorf("report: %+v", rep)
	}
	if mod.Section != "" || mod.Name != "github_pipeline" || mod.EntryPoint.Function != nil || mod.EntryPoint.Launcher != LauncherModule {
		t.Errorf("module job: %+v %+v", mod, mod.EntryPoint)
	}
	if got := strings.Join(mod.Sections(), "."); got != "jobs.github_pipeline" {
		t.Errorf("module job sections: %s", got)
	}
	if dash.Type != "interactive" || dash.EntryPoint.Launcher != LauncherDashboard {
		t.Errorf("dashboard: %+v", dash)
	}

	// Expanded and read back, as the control plane stores and the worker
	// reads it: the entry point, groups and delivery survive.
	for _, x := range m.Expand().Jobs {
		j, err := FromExpanded(x)
		if err != nil {
			t.Fatal(err)
		}
		if j.EntryPoint == nil || j.EntryPoint.Launcher != x.EntryPoint.Launcher {
			t.Errorf("%s: entry point lost: %+v", x.JobRef, j.EntryPoint)
		}
	}
	if x := m.Expand().Jobs[1]; x.Require == nil || x.Require.DependencyGroups[0] != "reports" || x.RequiredProfile() != "" {
		t.Errorf("report expanded require: %+v", x.Require)
	}

	// The launch: dlt's TRuntimeEntryPoint.
	win := Window{Start: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2024, 1, 1, 1, 0, 0, 0, time.UTC)}
	l := Launch{Job: in, Profile: "prod", RunID: "r1", Trigger: "every:1h", Window: &win, Config: map[string]any{"limit": "5"}}
	argv := l.PythonArgv("uv", "run", "python")
	want := `uv run python -m dlt._workspace.deployment.launchers.job --run-id r1 --trigger every:1h --entry-point {"module":"__deployment__","function":"ingest","job_type":"batch","launcher":"dlt._workspace.deployment.launchers.job","job_ref":"jobs.__deployment__.ingest","interval_start":"2024-01-01T00:00:00Z","interval_end":"2024-01-01T01:00:00Z","interval_timezone":"Europe/Berlin","profile":"prod","config":{"limit":"5"},"refresh":false}`
	if got := strings.Join(argv, " "); got != want {
		t.Errorf("argv:\n got %s\nwant %s", got, want)
	}
	if env := strings.Join((Launch{Job: mod, Config: map[string]any{"limit": "5"}}).Env(), " "); !strings.Contains(env, "JOBS__GITHUB_PIPELINE__LIMIT=5") {
		t.Errorf("module job env: %s", env)
	}
	app := Launch{Job: dash, Port: 8123, BasePath: "/w/apps/x/", RunID: "r2", Trigger: "http:"}
	if ep := app.RuntimeEntryPoint(); ep.RunArgs["port"] != 8123 || ep.RunArgs["base_path"] != "/w/apps/x" {
		t.Errorf("interactive run_args: %+v", ep.RunArgs)
	}
}

func TestParseWorkerOutputErrors(t *testing.T) {
	_, _, err := ParseWorkerOutput([]byte(`{"error":"invalid syntax (__deployment__.py, line 3)","error_type":"SyntaxError"}`), "__deployment__.py")
	var we *WorkerError
	if !errors.As(err, &we) || err.Error() != "dlt could not read the jobs of __deployment__.py (SyntaxError): invalid syntax (__deployment__.py, line 3)" {
		t.Errorf("worker error: %v", err)
	}
	if _, _, err := ParseWorkerOutput([]byte("Traceback ..."), "x.py"); err == nil || !strings.Contains(err.Error(), "printed no manifest for x.py") {
		t.Errorf("garbage: %v", err)
	}
	bad := `{"manifest":{"jobs":[
{"job_ref":"jobs.a.b","entry_point":{"module":"a","function":"b","job_type":"stream","launcher":"x"},"triggers":["webhook:/x"],"execute":{"concurrency":0}},
{"job_ref":"nojobs","entry_point":{"module":"a","function":"c","job_type":"batch","launcher":"x"},"triggers":[]},
{"job_ref":"jobs.a.d","entry_point":{"module":"a","function":"d","job_type":"batch","launcher":"x"},"triggers":["job.success:jobs.a.missing"],"interval":{"start":"2024-01-01T00:00:00Z","mode":"parallel"}}
]}}`
	m, _, err := ParseWorkerOutput([]byte(bad), "__deployment__.py")
	if err == nil {
		t.Fatalf("bad manifest accepted: %+v", m)
	}
	for _, want := range []string{`jobs.a.b: job_type "stream" is not supported here`, `jobs.a.b: triggers[0]: trigger "webhook:/x": unknown trigger type "webhook"`,
		"jobs.a.b: execute.concurrency: want a whole number of at least 1, or None", `job ref "nojobs": want jobs.<section>.<name> or jobs.<name>`,
		`jobs.a.d: interval.mode "parallel" is not supported here`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestCombine(t *testing.T) {
	toml, err := Parse([]byte("[jobs.ingest.github]\ncommand = [\"true\"]\n"), "dlthub.toml")
	if err != nil {
		t.Fatal(err)
	}
	py, _, err := ParseWorkerOutput([]byte(`{"manifest":{"jobs":[{"job_ref":"jobs.__deployment__.after","entry_point":{"module":"__deployment__","function":"after","job_type":"batch","launcher":"`+LauncherJob+`"},"triggers":["job.success:jobs.ingest.github"]}]}}`), "__deployment__.py")
	if err != nil {
		t.Fatal(err)
	}
	m, err := Combine(toml, py)
	if err != nil || len(m.Jobs) != 2 || m.Path != "dlthub.toml and __deployment__.py" {
		t.Fatalf("combine: %v %+v", err, m)
	}
	dup, _, _ := ParseWorkerOutput([]byte(`{"manifest":{"jobs":[{"job_ref":"jobs.ingest.github","entry_point":{"module":"m","function":"f","job_type":"batch","launcher":"`+LauncherJob+`"},"triggers":[]},
{"job_ref":"jobs.m.g","entry_point":{"module":"m","function":"g","job_type":"batch","launcher":"`+LauncherJob+`"},"triggers":["job.success:jobs.nope.x"]}]}}`), "__deployment__.py")
	if _, err := Combine(toml, dup); err == nil || !strings.Contains(err.Error(), "jobs.ingest.github: declared in dlthub.toml and in __deployment__.py") ||
		!strings.Contains(err.Error(), "refers to jobs.nope.x, which is not a job") {
		t.Errorf("duplicate and dangling refs: %v", err)
	}
}

// FuzzParseWorkerOutput feeds the manifest worker's output parser what a
// workspace's Python could print: it must return a manifest or an error,
// never panic, and a manifest it returns must expand and read back.
func FuzzParseWorkerOutput(f *testing.F) {
	f.Add([]byte(workerOut))
	f.Add([]byte(`{"error":"x","error_type":"SyntaxError"}`))
	f.Add([]byte(`{"manifest":{"jobs":[{"job_ref":"jobs.a","entry_point":{"module":"a","launcher":"l"},"execute":{"timeout":"4h","concurrency":1.5}}]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, _, err := ParseWorkerOutput(b, "__deployment__.py")
		if err != nil {
			return
		}
		for _, x := range m.Expand().Jobs {
			if _, err := FromExpanded(x); err != nil {
				t.Fatalf("%s expands to what does not read back: %v", x.JobRef, err)
			}
		}
	})
}

// FuzzParseTrigger: any trigger string parses or is refused, and a parsed
// one parses again to itself.
func FuzzParseTrigger(f *testing.F) {
	for _, s := range []string{"every:1h", "schedule:0 8 * * *", "0 3 * * *", "once:2025-01-01T00:00:00Z", "http:8080/x", "job.success:jobs.a.b", "tag:x", "deployment:", "@daily"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tr, err := ParseTrigger(s)
		if err != nil {
			return
		}
		again, err := ParseTrigger(tr.String())
		if err != nil || again.String() != tr.String() {
			t.Fatalf("%q parsed to %q, which parses to %q (%v)", s, tr.String(), again.String(), err)
		}
	})
}
