package pipeline

import (
	"context"
	"iter"
	"strings"
	"testing"
)

// A second run of a pipeline while one is running fails at once, naming
// the lock, and changes nothing; the first run loads, and so does the
// next. Two runs at once discarded each other's packages in progress and
// left a package every later run stopped on. Dropping pending packages
// waits its turn too.
func TestRunsOfOnePipelineDoNotOverlap(t *testing.T) {
	first := newTestPipeline(t, "locked")
	opts := first.opts
	inExtract, release := make(chan struct{}), make(chan struct{})
	blocking := &Resource{Name: "items", Records: func(context.Context, *ResourceContext) iter.Seq2[any, error] {
		return func(yield func(any, error) bool) {
			if !yield(map[string]any{"id": int64(1)}, nil) {
				return
			}
			close(inExtract)
			<-release
			yield(map[string]any{"id": int64(2)}, nil)
		}
	}}
	done := make(chan error)
	go func() {
		_, err := first.Run(context.Background(), blocking)
		done <- err
	}()
	<-inExtract
	second, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	_, err = second.Run(context.Background(), &Resource{Name: "items", Records: records(map[string]any{"id": int64(3)})})
	if err == nil || !strings.Contains(err.Error(), `pipeline "locked" is running in another process or run`) || !strings.Contains(err.Error(), ".lock is locked") {
		t.Fatalf("the second run: %v", err)
	}
	if _, err := second.DropPendingPackages(); err == nil || !strings.Contains(err.Error(), "is running") {
		t.Fatalf("dropping packages during a run: %v", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("the first run: %v", err)
	}
	run(t, second, &Resource{Name: "items", Records: records(map[string]any{"id": int64(4)})})
	db := openDB(t, second)
	if n := count(t, db, `SELECT count(*) FROM locked_dataset.items`); n != 3 {
		t.Errorf("items: %d rows, want 3 (the first run's two and the third's)", n)
	}
}
