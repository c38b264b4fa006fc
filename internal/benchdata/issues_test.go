package benchdata

import (
	"bufio"
	"bytes"
	"testing"

	"github.com/dlthub/dlthub/internal/jsonx"
)

func TestWriteIssuesShape(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteIssues(&buf, 2000, 1); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(&buf)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n, total := 0, 0
	for sc.Scan() {
		v, err := jsonx.Parse(sc.Bytes())
		if err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		o := v.(*jsonx.Object)
		for _, k := range []string{"id", "number", "title", "state", "created_at", "updated_at", "user", "labels", "assignees", "reactions", "body", "score"} {
			if _, ok := o.Get(k); !ok {
				t.Fatalf("line %d lacks %s", n, k)
			}
		}
		total += len(sc.Bytes()) + 1
		n++
	}
	if n != 2000 {
		t.Fatalf("%d lines", n)
	}
	if avg := total / n; avg < 600 || avg > 780 {
		t.Errorf("average record size %d bytes, want about 690", avg)
	}
	var again bytes.Buffer
	_ = WriteIssues(&again, 2000, 1)
	var first bytes.Buffer
	_ = WriteIssues(&first, 2000, 1)
	if !bytes.Equal(first.Bytes(), again.Bytes()) {
		t.Error("not deterministic")
	}
}
