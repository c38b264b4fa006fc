package pipeline

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dlthub/dlthub/internal/schema"
)

func TestSCD2(t *testing.T) {
	p := newTestPipeline(t, "hist")
	clock := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	p.opts.Now = func() time.Time { return clock }
	res := func(docs ...string) *Resource {
		return &Resource{Name: "customers", WriteDisposition: schema.Merge, MergeStrategy: schema.SCD2, Records: records(jsonRecords(t, docs...)...)}
	}
	run(t, p, res(`{"id": 1, "name": "Ann", "tags": ["a"]}`, `{"id": 2, "name": "Bob"}`))
	clock = clock.Add(24 * time.Hour)
	// Ann changed, Bob is gone, Cy is new.
	run(t, p, res(`{"id": 1, "name": "Ann B.", "tags": ["a", "b"]}`, `{"id": 3, "name": "Cy"}`))
	clock = clock.Add(24 * time.Hour)
	// Nothing changed: no new versions.
	run(t, p, res(`{"id": 1, "name": "Ann B.", "tags": ["a", "b"]}`, `{"id": 3, "name": "Cy"}`))
	db := openDB(t, p)
	if n := count(t, db, `SELECT count(*) FROM hist_dataset.customers`); n != 4 {
		t.Errorf("versions = %d, want 4", n)
	}
	if n := count(t, db, `SELECT count(*) FROM hist_dataset.customers WHERE _dlt_valid_to IS NULL`); n != 2 {
		t.Errorf("current = %d, want 2 (Ann B., Cy)", n)
	}
	closed := count(t, db, `SELECT count(*) FROM hist_dataset.customers WHERE _dlt_valid_to = TIMESTAMPTZ '2024-05-02 12:00:00+00' AND name IN ('Ann', 'Bob')`)
	if closed != 2 {
		t.Errorf("closed on day 2: %d", closed)
	}
	if n := count(t, db, `SELECT count(*) FROM hist_dataset.customers WHERE name = 'Ann B.' AND _dlt_valid_from = TIMESTAMPTZ '2024-05-02 12:00:00+00'`); n != 1 {
		t.Errorf("new version opened on day 2: %d", n)
	}
	if n := count(t, db, `SELECT count(*) FROM hist_dataset.customers__tags`); n != 3 {
		t.Errorf("child rows = %d, want 3 (one per version)", n)
	}
}

func TestUpsert(t *testing.T) {
	p := newTestPipeline(t, "ups")
	res := func(docs ...string) *Resource {
		return &Resource{Name: "items", WriteDisposition: schema.Merge, MergeStrategy: schema.Upsert, PrimaryKey: []string{"id"}, Records: records(jsonRecords(t, docs...)...)}
	}
	run(t, p, res(`{"id": 1, "v": "a", "l": [1, 2]}`, `{"id": 2, "v": "b"}`))
	run(t, p, res(`{"id": 1, "v": "a2", "l": [3]}`))
	db := openDB(t, p)
	if n := count(t, db, `SELECT count(*) FROM ups_dataset.items`); n != 2 {
		t.Errorf("rows %d", n)
	}
	if n := count(t, db, `SELECT count(*) FROM ups_dataset.items__l`); n != 1 {
		t.Errorf("child rows %d", n)
	}
	if _, err := p.Run(context.Background(), &Resource{Name: "x", WriteDisposition: schema.Merge, MergeStrategy: schema.Upsert, Records: records()}); err == nil {
		t.Error("upsert without a primary key accepted")
	}
}

// The scd2 options as the Go SDK gives them: a resource that later runs
// without them keeps the table's validity columns and active record
// timestamp (the stored schema holds them), options that would rename the
// validity columns are refused, and options need the scd2 strategy.
func TestSCD2Options(t *testing.T) {
	p := newTestPipeline(t, "opts")
	clock := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	p.opts.Now = func() time.Time { return clock }
	res := func(o *schema.SCD2Options, docs ...string) *Resource {
		return &Resource{Name: "customers", WriteDisposition: schema.Merge, MergeStrategy: schema.SCD2, SCD2: o, Records: records(jsonRecords(t, docs...)...)}
	}
	opts := &schema.SCD2Options{ValidFrom: "Valid From", ValidTo: "Valid To", ActiveRecordTimestamp: "9999-12-31"}
	run(t, p, res(opts, `{"id": 1, "name": "Ann"}`, `{"id": 2, "name": "Bob"}`))
	clock = clock.Add(24 * time.Hour)
	run(t, p, res(nil, `{"id": 1, "name": "Ann B."}`, `{"id": 2, "name": "Bob"}`))

	ctx := context.Background()
	clock = clock.Add(time.Hour)
	other := &schema.SCD2Options{ValidFrom: "starts", ValidTo: "ends"}
	_, err := p.Run(ctx, res(other, `{"id": 1, "name": "Ann"}`))
	if err == nil || !strings.Contains(err.Error(), `table "customers" keeps its scd2 validity in "valid_from" and "valid_to"`) {
		t.Errorf("renaming the validity columns: %v", err)
	}
	// The refused package is not left behind to fail the next run.
	clock = clock.Add(time.Hour)
	run(t, p, res(opts, `{"id": 1, "name": "Ann B."}`, `{"id": 2, "name": "Bob"}`))
	bad := &Resource{Name: "other", WriteDisposition: schema.Merge, SCD2: opts, Records: records()}
	if _, err := p.Run(ctx, bad); err == nil || !strings.Contains(err.Error(), "need merge strategy scd2") {
		t.Errorf("options without scd2: %v", err)
	}
	bad = res(&schema.SCD2Options{ValidFrom: "a"})
	if _, err := p.Run(ctx, bad); err == nil || !strings.Contains(err.Error(), "name both") {
		t.Errorf("one validity column: %v", err)
	}

	db := openDB(t, p)
	if n := count(t, db, `SELECT count(*) FROM information_schema.columns WHERE table_name = 'customers' AND column_name LIKE '%valid%'`); n != 2 {
		t.Errorf("%d validity columns, want valid_from and valid_to only", n)
	}
	if n := count(t, db, `SELECT count(*) FROM opts_dataset.customers WHERE valid_to = TIMESTAMPTZ '9999-12-31 00:00:00+00'`); n != 2 {
		t.Errorf("current = %d, want 2 (Ann B., Bob)", n)
	}
	if n := count(t, db, `SELECT count(*) FROM opts_dataset.customers WHERE name = 'Ann' AND valid_to = TIMESTAMPTZ '2024-05-02 12:00:00+00'`); n != 1 {
		t.Errorf("Ann retired on day 2: %d", n)
	}
}
