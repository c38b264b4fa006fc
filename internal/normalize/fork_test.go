package normalize

import (
	"encoding/json"
	"errors"
	mrand "math/rand/v2"
	"slices"
	"testing"

	"github.com/dlthub/dlthub/internal/jsonx"
	"github.com/dlthub/dlthub/internal/naming"
	"github.com/dlthub/dlthub/internal/schema"
)

// A frozen fork writes the rows its parent would for records that fit the
// schema, and refuses (ErrSchemaChange) every record that would change
// it, leaving the schema as it was.
func TestForkIsFrozen(t *testing.T) {
	parse := func(doc string) any {
		v, err := jsonx.Parse([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	h := &Hints{Table: "items", Resource: "items", Columns: []*schema.Column{{Name: "hinted"}}}
	s := schema.New("fork")
	parent := New(s, naming.NewSnakeCase(63), "1700000000.1", &rowLog{})
	parent.rng = mrand.NewChaCha8([32]byte{1})
	if _, err := parent.Prepare(h); err != nil {
		t.Fatal(err)
	}
	settle := `{"id": 1, "name": "a", "score": 1.5, "tags": ["x"], "user": {"login": "u"}}`
	if err := parent.Record(h, 0, parse(settle)); err != nil {
		t.Fatal(err)
	}
	before, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}

	fits := `{"id": 2, "name": "b", "score": 2, "tags": ["y", "z"], "user": {"login": "v"}}`
	forkOut, parentOut := &rowLog{}, &rowLog{}
	fork := parent.Fork(forkOut)
	fork.rng = mrand.NewChaCha8([32]byte{2})
	if err := fork.Record(h, 1, parse(fits)); err != nil {
		t.Fatalf("a record that fits the schema: %v", err)
	}
	twin := New(s, naming.NewSnakeCase(63), "1700000000.1", parentOut)
	twin.existed = parent.existed
	twin.rng = mrand.NewChaCha8([32]byte{2})
	if err := twin.Record(h, 1, parse(fits)); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(forkOut.rows, parentOut.rows) || len(forkOut.rows) != 3 {
		t.Fatalf("fork wrote\n%v\nunfrozen normalizer wrote\n%v", forkOut.rows, parentOut.rows)
	}
	if fork.Counts["items"] != 1 || fork.Counts["items__tags"] != 2 {
		t.Fatalf("fork counts %v", fork.Counts)
	}

	for name, doc := range map[string]string{
		"new column":       `{"id": 3, "extra": true}`,
		"variant":          `{"id": 4, "score": "high"}`,
		"new child table":  `{"id": 5, "labels": [{"name": "bug"}]}`,
		"nested new table": `{"id": 6, "tags": ["t"], "user": {"roles": ["admin"]}}`,
		"typing a hint":    `{"id": 7, "hinted": 3}`,
	} {
		f := parent.Fork(&rowLog{})
		if err := f.Record(h, 0, parse(doc)); !errors.Is(err, ErrSchemaChange) {
			t.Errorf("%s: err = %v, want ErrSchemaChange", name, err)
		}
	}
	other := &Hints{Table: "other", Resource: "other"}
	if err := parent.Fork(&rowLog{}).Record(other, 0, parse(`{"id": 1}`)); !errors.Is(err, ErrSchemaChange) {
		t.Errorf("new table: err = %v, want ErrSchemaChange", err)
	}
	after, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if string(before) != string(after) {
		t.Fatalf("frozen forks changed the schema:\nbefore %s\nafter  %s", before, after)
	}
}
