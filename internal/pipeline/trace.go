package pipeline

import (
	"errors"
	"io/fs"
	"path/filepath"
	"time"

	"github.com/dlthub/dlthub/internal/loadpackage"
)

// Trace records the last run: its steps with timings, rows per table, and
// the error that ended it, if any.
type Trace struct {
	Pipeline   string           `json:"pipeline"`
	StartedAt  time.Time        `json:"started_at"`
	FinishedAt time.Time        `json:"finished_at"`
	Steps      []TraceStep      `json:"steps"`
	LoadIDs    []string         `json:"load_ids"`
	Rows       map[string]int64 `json:"rows"`
	Error      string           `json:"error,omitempty"`
}

// TraceStep is one step of a run.
type TraceStep struct {
	Step     string        `json:"step"`
	Duration time.Duration `json:"duration_ns"`
}

const traceFile = "trace.json"

func (p *Pipeline) writeTrace(started time.Time, info *LoadInfo, runErr error) {
	t := Trace{Pipeline: p.opts.Name, StartedAt: started.UTC(), FinishedAt: p.opts.Now().UTC(), Rows: map[string]int64{}}
	if info != nil {
		t.Steps = []TraceStep{{"extract", info.Extract}, {"normalize", info.Normal}, {"load", info.Load}}
		t.LoadIDs, t.Rows = info.LoadIDs, info.Rows
	}
	if runErr != nil {
		t.Error = runErr.Error()
	}
	// The trace is informational; failing to write it must not fail a run
	// whose data is already committed.
	_ = loadpackage.WriteJSON(filepath.Join(p.store.Dir, traceFile), t)
}

// LastTrace reads the last run's trace; nil when the pipeline never ran.
func (p *Pipeline) LastTrace() (*Trace, error) {
	t := &Trace{}
	err := loadpackage.ReadJSON(filepath.Join(p.store.Dir, traceFile), t)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return t, err
}
