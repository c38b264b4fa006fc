package worker

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/dlthub/dlthub/internal/store"
)

// logSink stores a run's output lines in order as they are printed,
// batched a little (every 200 ms or 500 lines) so a chatty job does not
// make one write per line, with known secret values masked.
type logSink struct {
	st    logStore
	runID string
	masks []string
	now   func() time.Time
	log   *slog.Logger

	// flushMu keeps batches in order: a reader following the log by
	// sequence number must never see a later batch before an earlier one.
	flushMu sync.Mutex
	mu      sync.Mutex
	seq     int64
	bytes   int64
	dropped int64
	pending []store.LogLine
	partial map[string]string // per stream, a line not ended yet

	stop chan struct{}
	done chan struct{}
}

// logStore is where a run's lines go (the worker's Control).
type logStore interface {
	AppendRunLogs(ctx context.Context, runID string, lines []store.LogLine) error
}

const (
	logFlushEvery = 200 * time.Millisecond
	logFlushLines = 500
	// A run's stored log is bounded: past maxLogBytes the rest is dropped
	// with one line saying so (a runaway job must not fill the database).
	maxLogBytes = 64 << 20
	maxLineLen  = 64 << 10
	// maskedSecret replaces a secret's value in a log line.
	maskedSecret = "****"
)

func newLogSink(st logStore, runID string, masks []string, now func() time.Time, log *slog.Logger) *logSink {
	s := &logSink{st: st, runID: runID, masks: masks, now: now, log: log, partial: map[string]string{}, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(logFlushEvery)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				s.flush()
			}
		}
	}()
	return s
}

type streamWriter struct {
	s    *logSink
	name string
}

func (w streamWriter) Write(p []byte) (int, error) {
	w.s.mu.Lock()
	text := w.s.partial[w.name] + string(p)
	lines := strings.Split(text, "\n")
	w.s.partial[w.name] = lines[len(lines)-1]
	for _, l := range lines[:len(lines)-1] {
		w.s.addLocked(w.name, l)
	}
	full := len(w.s.pending) >= logFlushLines
	w.s.mu.Unlock()
	if full {
		w.s.flush()
	}
	return len(p), nil
}

func (s *logSink) stream(name string) streamWriter { return streamWriter{s: s, name: name} }

// line adds one line (a message of the worker's own).
func (s *logSink) line(stream, text string) {
	s.mu.Lock()
	s.addLocked(stream, text)
	s.mu.Unlock()
}

func (s *logSink) addLocked(stream, text string) {
	if s.bytes >= maxLogBytes {
		s.dropped++
		return
	}
	for _, m := range s.masks {
		text = strings.ReplaceAll(text, m, maskedSecret)
	}
	if len(text) > maxLineLen {
		text = text[:maxLineLen] + " … (line cut at 64 KiB)"
	}
	s.bytes += int64(len(text)) + 1
	if s.bytes >= maxLogBytes {
		text += " … (the log reached 64 MiB; later output is not kept)"
	}
	s.seq++
	s.pending = append(s.pending, store.LogLine{Seq: s.seq, At: s.now().UTC(), Stream: stream, Line: strings.TrimSuffix(text, "\r")})
}

func (s *logSink) flush() {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	s.mu.Lock()
	batch := s.pending
	s.pending = nil
	s.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	if err := s.st.AppendRunLogs(context.Background(), s.runID, batch); err != nil {
		s.log.Error("store run logs", "lines", len(batch), "err", err)
	}
}

// close stores what is left, a last unended line included.
func (s *logSink) close() {
	close(s.stop)
	<-s.done
	s.mu.Lock()
	for name, rest := range s.partial {
		if rest != "" {
			s.addLocked(name, rest)
		}
	}
	if s.dropped > 0 {
		s.bytes = 0 // room for the note
		s.addLocked("stderr", fmt.Sprintf("… %d more line(s) were not kept", s.dropped))
	}
	s.mu.Unlock()
	s.flush()
}
