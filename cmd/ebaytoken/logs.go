package main

import (
	"io"
	"log/slog"
)

// The command's log handlers: JSON for serve, text for -v. Both write a
// duration as a Go duration string ("8.39ms", "1h30m0s"): slog's JSON
// handler would write bare nanoseconds, which read as anything.

func newJSONHandler(w io.Writer, level slog.Level) slog.Handler {
	return slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: durationString})
}

func newTextHandler(w io.Writer, level slog.Level) slog.Handler {
	return slog.NewTextHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: durationString})
}

// durationString is a slog ReplaceAttr that writes durations as strings.
// It is called for attributes inside groups too.
func durationString(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		return slog.String(a.Key, a.Value.Duration().String())
	}
	return a
}
