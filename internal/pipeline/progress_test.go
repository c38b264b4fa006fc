package pipeline

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

// OnProgress hears each stage start and end, with what it worked through,
// and the records in between.
func TestProgressEvents(t *testing.T) {
	dir := t.TempDir()
	var events []Progress
	p, err := New(Options{Name: "prog", PipelinesDir: filepath.Join(dir, "state", "pipelines"), LocalDir: filepath.Join(dir, "data"),
		OnProgress: func(ev Progress) { events = append(events, ev) }})
	if err != nil {
		t.Fatal(err)
	}
	var recs []any
	for i := range 2500 {
		recs = append(recs, map[string]any{"id": int64(i), "name": fmt.Sprintf("n%d", i), "tags": []any{"a", "b"}})
	}
	info, err := p.Run(context.Background(), &Resource{Name: "items", Records: records(recs...)})
	if err != nil {
		t.Fatal(err)
	}
	if info.Rows["items"] != 2500 || info.Rows["items__tags"] != 5000 {
		t.Fatalf("rows %v", info.Rows)
	}
	byStage := map[string][]Progress{}
	for _, ev := range events {
		byStage[ev.Stage] = append(byStage[ev.Stage], ev)
	}
	check := func(stage string, n int, last Progress) {
		t.Helper()
		evs := byStage[stage]
		if len(evs) != n {
			t.Errorf("%s: %d events, want %d: %+v", stage, len(evs), n, evs)
			return
		}
		if evs[0].Done || evs[0].Records != 0 {
			t.Errorf("%s starts with %+v", stage, evs[0])
		}
		got := evs[len(evs)-1]
		if got.Bytes <= 0 {
			t.Errorf("%s: no bytes: %+v", stage, got)
		}
		got.Bytes, got.LoadID = 0, ""
		if got != last {
			t.Errorf("%s ends with %+v, want %+v", stage, got, last)
		}
		for i := 1; i < len(evs); i++ {
			if evs[i].Records < evs[i-1].Records || evs[i].Bytes < evs[i-1].Bytes {
				t.Errorf("%s goes back: %+v after %+v", stage, evs[i], evs[i-1])
			}
		}
	}
	// Start, every 1,000 records, end.
	check("extract", 4, Progress{Stage: "extract", Resource: "items", Records: 2500, Done: true})
	check("normalize", 4, Progress{Stage: "normalize", Records: 2500, Rows: 7500, Total: 2500, Done: true})
	check("load", 2, Progress{Stage: "load", Records: 7500, Total: 7500, Done: true})
	if ev := byStage["normalize"][0]; ev.Total != 2500 {
		t.Errorf("normalize starts without its total: %+v", ev)
	}
	if ev := byStage["load"][0]; ev.Total != 7500 || ev.Bytes <= 0 {
		t.Errorf("load starts without its total: %+v", ev)
	}
}
