package dlt

import (
	"testing"
	"time"

	"github.com/dlthub/dlthub/internal/jobs"
)

// The SDK reads exactly what the launcher writes.
func TestRunContextFromLaunch(t *testing.T) {
	m, err := jobs.Parse([]byte("[jobs.ingest.github]\ncommand = [\"./x\"]\ntrigger = [\"0 3 * * *\"]\nrequire = { timezone = \"Europe/Berlin\" }\n"), "dlthub.toml")
	if err != nil {
		t.Fatal(err)
	}
	w := jobs.Window{Start: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)}
	l := jobs.Launch{Job: m.Jobs[0], Profile: "prod", RunID: "r1", Trigger: "schedule:0 3 * * *", Refresh: true, Window: &w,
		Config: map[string]any{"limit": int64(5), "labels": []any{"a", "b"}, "api": map[string]any{"page_size": "100"}}}
	rc := runContextFrom(l.Env())
	if rc.JobRef != "jobs.ingest.github" || rc.Profile != "prod" || rc.RunID != "r1" || rc.Trigger != "schedule:0 3 * * *" || !rc.Refresh {
		t.Errorf("%+v", rc)
	}
	if !rc.HasInterval() || !rc.IntervalStart.Equal(w.Start) || !rc.IntervalEnd.Equal(w.End) || rc.Timezone != "Europe/Berlin" {
		t.Errorf("interval %+v", rc)
	}
	if rc.Config["limit"] != float64(5) || rc.Config["api__page_size"] != float64(100) {
		t.Errorf("config %#v", rc.Config)
	}
	if l, ok := rc.Config["labels"].([]any); !ok || len(l) != 2 {
		t.Errorf("labels %#v", rc.Config["labels"])
	}
}
