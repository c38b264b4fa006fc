package cli

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/vbauerster/cupwriter"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/dlthub/dlthub/internal/pipeline"
)

// runProgress shows a pipeline run's progress on a terminal, fed by the
// engine's pipeline.Options.OnProgress events: a line per stage (extract
// per resource, then normalize and load per package), each with its rows,
// bytes, rate and elapsed time. A finished stage stays on screen with its
// final numbers.
//
// It draws with github.com/vbauerster/mpb/v8 rather than hand-written
// escape codes. mpb was picked over github.com/schollz/progressbar/v3
// because it keeps several lines live at once (finished stages stay put
// above the running one), redraws on its own goroutine at a fixed rate, so
// the engine's callback only stores numbers and never waits on the
// terminal, and takes any decorators per line, where progressbar draws one
// bar with one counter and a stage here has two (rows and bytes).
type runProgress struct {
	p      *mpb.Progress
	mu     sync.Mutex
	stages map[string]*stageBar
	order  []*stageBar
}

// stageBar is one line: the numbers the decorators read.
type stageBar struct {
	bar    *mpb.Bar
	start  time.Time
	end    atomic.Int64 // UnixNano once done
	rows   atomic.Int64
	bytes  atomic.Int64
	pages  atomic.Int64
	total  int64 // load: rows to load
	isLoad bool
}

// newRunProgress draws on w, which the caller knows is a terminal.
func newRunProgress(ctx context.Context, w io.Writer) *runProgress {
	// forceTTY: w is the terminal even when it is not an *os.File (tests,
	// DLTHUB_FORCE_TTY); a file that is a terminal also gives its width.
	cw := sizedWriter{cupwriter.New(w, true)}
	return &runProgress{
		p:      mpb.NewWithContext(ctx, mpb.WithConsoleWriter(cw), mpb.WithAutoRefresh(), mpb.WithRefreshRate(120*time.Millisecond)),
		stages: map[string]*stageBar{},
	}
}

// sizedWriter is mpb's console writer with a fallback width for a terminal
// that says it has none (a pseudo-terminal without a window size, as
// script(1) makes when its input is not a terminal).
type sizedWriter struct{ *cupwriter.Writer }

func (w sizedWriter) GetTermSize() (width, height int, err error) {
	width, height, err = w.Writer.GetTermSize()
	if err != nil || width <= 0 || height <= 0 {
		return 100, 40, nil
	}
	return width, height, nil
}

// event takes one engine event (the OnProgress callback).
func (r *runProgress) event(ev pipeline.Progress) {
	r.mu.Lock()
	defer r.mu.Unlock()
	key := ev.Stage + "\x00" + ev.Resource + "\x00" + ev.LoadID
	s := r.stages[key]
	if s == nil {
		s = r.add(ev)
		r.stages[key] = s
	}
	switch ev.Stage {
	case "normalize":
		s.rows.Store(ev.Rows)
		s.bar.SetCurrent(ev.Records)
	default:
		s.rows.Store(ev.Records)
		s.bar.SetCurrent(ev.Records)
	}
	s.bytes.Store(ev.Bytes)
	s.pages.Store(ev.Pages)
	if ev.Done && s.end.Load() == 0 {
		s.end.Store(time.Now().UnixNano())
		s.bar.SetTotal(-1, true)
	}
}

func (r *runProgress) add(ev pipeline.Progress) *stageBar {
	s := &stageBar{start: time.Now(), total: ev.Total, isLoad: ev.Stage == "load"}
	label := ev.Stage
	if ev.Resource != "" {
		label += " " + ev.Resource
	}
	opts := []mpb.BarOption{
		mpb.PrependDecorators(decor.Name(label, decor.WCSyncSpaceR)),
		mpb.AppendDecorators(decor.Any(func(decor.Statistics) string { return s.stats() })),
	}
	if ev.Stage == "normalize" && ev.Total > 0 {
		// The records extracted are known: a bar fills up.
		s.bar = r.p.New(ev.Total, mpb.BarStyle(), append(opts, mpb.BarWidth(24))...)
	} else {
		s.bar = r.p.New(0, mpb.SpinnerStyle(), append(opts, mpb.BarWidth(1), mpb.BarFillerOnComplete("✔"))...)
	}
	r.order = append(r.order, s)
	return s
}

// stats is a line's numbers: rows, bytes, rate and elapsed time.
func (s *stageBar) stats() string {
	end := time.Now()
	if n := s.end.Load(); n != 0 {
		end = time.Unix(0, n)
	}
	elapsed := end.Sub(s.start)
	rows := s.rows.Load()
	what := counted(rows, "row")
	if s.isLoad && s.end.Load() == 0 {
		what = counted(s.total, "row") + " to load"
	}
	rate := "-"
	if secs := elapsed.Seconds(); secs > 0 && rows > 0 {
		rate = humanize.Comma(int64(float64(rows)/secs)) + " rows/s"
	}
	if n := s.pages.Load(); n > 0 {
		what += " (" + counted(n, "page") + ")"
	}
	return fmt.Sprintf("%s · %s · %s · %s", what, humanize.IBytes(uint64(s.bytes.Load())), rate, roundElapsed(elapsed))
}

// counted is "1 row", "1,000 rows".
func counted(n int64, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return humanize.Comma(n) + " " + what + "s"
}

func roundElapsed(d time.Duration) time.Duration {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond)
	case d < time.Minute:
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}

// wait draws the last frame; stages that did not finish (the run failed)
// are left as they stood.
func (r *runProgress) wait() {
	r.mu.Lock()
	for _, s := range r.order {
		if s.end.Load() == 0 {
			s.bar.Abort(false)
		}
	}
	r.mu.Unlock()
	r.p.Wait()
}
