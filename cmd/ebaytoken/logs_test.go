package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"
	"time"
)

func TestLogDurations(t *testing.T) {
	tests := []struct {
		name string
		attr slog.Attr
		want any // the value in the JSON record
	}{
		{"duration", slog.Duration("took", 8391608*time.Nanosecond), "8.391608ms"},
		{"zero duration", slog.Duration("wait", 0), "0s"},
		{"hours", slog.Duration("retry_in", 90*time.Minute), "1h30m0s"},
		{"int", slog.Int("attempt", 3), 3.0},
		{"string", slog.String("error", "x"), "x"},
		{"in a group", slog.Group("event", slog.Duration("duration", 1500*time.Millisecond)), map[string]any{"duration": "1.5s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			slog.New(newJSONHandler(&buf, slog.LevelInfo)).Info("m", tt.attr)
			var rec map[string]any
			if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
				t.Fatalf("%v: %s", err, buf.String())
			}
			got, _ := json.Marshal(rec[tt.attr.Key])
			want, _ := json.Marshal(tt.want)
			if string(got) != string(want) {
				t.Errorf("got %s; want %s", got, want)
			}
		})
	}
}
