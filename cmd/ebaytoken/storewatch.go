package main

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/ebayauth/ebayauth"
)

// storeWatch collects what went wrong with the token store during a
// subcommand, so that it shows without -v: the Manager's store failures (a
// value the store cannot read is one: redisstore.ErrUnreadable) and the
// warnings the store itself logged (filestore takes a corrupt token file
// for an empty one, and says so only in its log). It is safe for
// concurrent use.
type storeWatch struct {
	mu       sync.Mutex
	failures []string // the Manager's store errors
	warnings []string // the store's own warnings
}

// maxStoreNotes bounds what a storeWatch keeps, for serve, which runs for
// long.
const maxStoreNotes = 10

// A nil storeWatch (a seller's session: Accounts reports its store's
// troubles itself) records nothing.
func (w *storeWatch) add(list *[]string, s string) {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if !slices.Contains(*list, s) && len(*list) < maxStoreNotes {
		*list = append(*list, s)
	}
}

// observe is a Config.OnEvent hook.
func (w *storeWatch) observe(e ebayauth.Event) {
	if e.Kind == ebayauth.EventStoreUnavailable && e.Err != nil {
		w.add(&w.failures, e.Err.Error())
	}
}

// failed records a store error the subcommand got itself (Manager.Sync).
func (w *storeWatch) failed(err error) { w.add(&w.failures, err.Error()) }

// causes are the store's troubles: its failures if any, which say most,
// else its warnings. Empty if the store worked.
func (w *storeWatch) causes() []string {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.failures) > 0 {
		return slices.Clone(w.failures)
	}
	return slices.Clone(w.warnings)
}

// logger is a logger for the store that writes to h and records the
// store's warnings and errors in w, whatever h's level.
func (w *storeWatch) logger(h slog.Handler) *slog.Logger {
	return slog.New(&watchHandler{inner: h, w: w})
}

// watchHandler passes records to inner, and keeps those of level warning
// and above in w: the message and the error or reason it carries.
type watchHandler struct {
	inner slog.Handler
	w     *storeWatch
	attrs []slog.Attr // from WithAttrs; groups are not needed by the stores
}

func (h *watchHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn || h.inner.Enabled(ctx, l)
}

func (h *watchHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		msg := r.Message
		note := func(a slog.Attr) bool {
			if a.Key == "error" || a.Key == "reason" {
				msg += fmt.Sprintf(" (%s)", a.Value)
			}
			return true
		}
		for _, a := range h.attrs {
			note(a)
		}
		r.Attrs(note)
		h.w.add(&h.w.warnings, msg)
	}
	if h.inner.Enabled(ctx, r.Level) {
		return h.inner.Handle(ctx, r)
	}
	return nil
}

func (h *watchHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &watchHandler{inner: h.inner.WithAttrs(attrs), w: h.w, attrs: append(slices.Clone(h.attrs), attrs...)}
}

func (h *watchHandler) WithGroup(name string) slog.Handler {
	return &watchHandler{inner: h.inner.WithGroup(name), w: h.w, attrs: h.attrs}
}
