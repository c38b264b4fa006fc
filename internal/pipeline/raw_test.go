package pipeline

import (
	"context"
	"strings"
	"testing"

	"github.com/dlthub/dlthub/internal/jsonx"
)

// Records given as JSON text may break lines (an API's pretty-printed
// body): each still loads as one record, with its nested rows, also nested
// in an object. A line break inside a string is not JSON: the run fails
// naming the resource and record, and loads nothing.
func TestRawRecordsWithLineBreaks(t *testing.T) {
	p := newTestPipeline(t, "raw_lines")
	pretty := jsonx.Raw("{\n  \"id\": 1,\n  \"tags\": [\r\n    \"a\",\n    \"b\\nc\"\n  ]\n}")
	wrapped := &jsonx.Object{Keys: []string{"id", "body"}, Values: []any{int64(2), jsonx.Raw("{\n\"title\": \"t\"\n}")}}
	if _, err := p.Run(context.Background(), &Resource{Name: "items", Records: records(pretty, wrapped)}); err != nil {
		t.Fatal(err)
	}
	db := openDB(t, p)
	if n := count(t, db, `SELECT count(*) FROM raw_lines_dataset.items`); n != 2 {
		t.Errorf("items: %d rows, want 2", n)
	}
	if n := count(t, db, `SELECT count(*) FROM raw_lines_dataset.items__tags WHERE value = 'b'||chr(10)||'c'`); n != 1 {
		t.Errorf("the escaped line break in a value was not kept")
	}
	if n := count(t, db, `SELECT count(*) FROM raw_lines_dataset.items WHERE body__title = 't'`); n != 1 {
		t.Errorf("the nested raw object was not flattened")
	}

	bad := newTestPipeline(t, "raw_bad")
	_, err := bad.Run(context.Background(), &Resource{Name: "items", Records: records(pretty, jsonx.Raw("{\"a\": \"line\nbreak\"}"))})
	if err == nil || !strings.Contains(err.Error(), `resource "items" record 1`) || !strings.Contains(err.Error(), "line break inside a string") {
		t.Fatalf("a raw line break in a string: %v", err)
	}
}

// JSON text that is not UTF-8 (a Latin-1 export, a cut multi-byte
// character) fails the run naming the resource, record and byte, and
// nothing of the package is loaded. It used to be normalized into job
// files that DuckDB refused at load, and every later run stopped on the
// same pending package.
func TestRecordsThatAreNotUTF8(t *testing.T) {
	p := newTestPipeline(t, "utf8")
	_, err := p.Run(context.Background(), &Resource{Name: "items", Records: records(jsonx.Raw(`{"a": "ok"}`), jsonx.Raw("{\"a\": \"caf\xe9\"}"))})
	if err == nil || !strings.Contains(err.Error(), `resource "items" record 1: invalid JSON at byte 10: a string is not valid UTF-8`) {
		t.Fatalf("err = %v", err)
	}
	if _, err := p.Run(context.Background(), &Resource{Name: "items", Records: records(jsonx.Raw(`{"a": "café"}`))}); err != nil {
		t.Fatalf("the next run: %v", err)
	}
	db := openDB(t, p)
	if n := count(t, db, `SELECT count(*) FROM utf8_dataset.items WHERE a = 'café'`); n != 1 {
		t.Errorf("the next run's record: %d rows", n)
	}
	if n := count(t, db, `SELECT count(*) FROM utf8_dataset.items`); n != 1 {
		t.Errorf("items: %d rows, want only the next run's", n)
	}
}
