package pipeline

import (
	"context"
	"testing"
)

func TestRefreshModesAndDrop(t *testing.T) {
	p := newTestPipeline(t, "refresh")
	inc := func(name string, to int) *Resource {
		return &Resource{Name: name, Incremental: &Incremental{CursorPath: "updated_at"}, Records: events(0, to, nil)}
	}
	run(t, p, inc("a", 3))
	run(t, p, inc("b", 3))
	db := openDB(t, p)

	// drop_data: rows and cursor of "a" go, the table stays; "b" untouched.
	p.opts.Refresh = RefreshDropData
	if info := run(t, p, inc("a", 2)); info.Rows["a"] != 3 {
		t.Errorf("drop_data reloaded %d rows, want 3 (cursor reset)", info.Rows["a"])
	}
	if n := count(t, db, `SELECT count(*) FROM refresh_dataset.a`); n != 3 {
		t.Errorf("a after drop_data = %d", n)
	}
	if n := count(t, db, `SELECT count(*) FROM refresh_dataset.b`); n != 4 {
		t.Errorf("b after drop_data = %d", n)
	}
	// drop_resources: table "a" is dropped and recreated.
	p.opts.Refresh = RefreshDropResources
	if info := run(t, p, inc("a", 1)); info.Rows["a"] != 2 {
		t.Errorf("drop_resources loaded %d", info.Rows["a"])
	}
	if n := count(t, db, `SELECT count(*) FROM refresh_dataset.a`); n != 2 {
		t.Errorf("a after drop_resources = %d", n)
	}
	// drop_sources: every table goes, the run starts over.
	p.opts.Refresh = RefreshDropSources
	run(t, p, inc("a", 0))
	if n := count(t, db, `SELECT count(*) FROM information_schema.tables WHERE table_schema = 'refresh_dataset' AND table_name = 'b'`); n != 0 {
		t.Errorf("b survived drop_sources")
	}
	p.opts.Refresh = ""

	// The drop command: b's tables and state go, and stay gone after the
	// working dir is lost (the new state is in the destination).
	run(t, p, inc("b", 3))
	dropped, err := p.DropResources(context.Background(), []string{"b"})
	if err != nil || len(dropped) != 1 || dropped[0] != "b" {
		t.Fatalf("dropped %v, %v", dropped, err)
	}
	if _, err := p.DropResources(context.Background(), []string{"nope"}); err == nil {
		t.Error("dropping an unknown resource succeeded")
	}
	st, _ := p.State()
	if res := st.resourceState(p.SchemaName(), "b"); len(res) != 0 {
		t.Errorf("b state kept: %v", res)
	}
}
