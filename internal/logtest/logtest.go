// Package logtest is a slog.Handler for tests that keeps every record it is
// given as a line, so that a test can check what a package logged (and
// that it logged no secret).
package logtest

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
)

// Recorder is a slog.Handler that keeps each record as "LEVEL message
// key=value …", at every level. Its zero value is ready; it is safe for
// concurrent use.
type Recorder struct {
	mu    sync.Mutex
	lines []string
}

var _ slog.Handler = (*Recorder)(nil)

func (r *Recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *Recorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *Recorder) WithGroup(string) slog.Handler            { return r }

// Handle keeps rec.
func (r *Recorder) Handle(_ context.Context, rec slog.Record) error {
	var b strings.Builder
	b.WriteString(rec.Level.String() + " " + rec.Message)
	rec.Attrs(func(a slog.Attr) bool {
		b.WriteString(" " + a.String())
		return true
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, b.String())
	return nil
}

// Lines returns the records kept so far, oldest first.
func (r *Recorder) Lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.lines)
}
