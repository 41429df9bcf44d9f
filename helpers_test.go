package ebayauth_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ebayauth/ebayauth/internal/syncbuf"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/ebaytest"
)

// start is the fake clock's starting time in every test: far from today, so
// that a test that let the wall clock judge a token would fail at once.
var start = time.Date(2040, 3, 1, 9, 0, 0, 0, time.UTC)

// fixture is one fake eBay, a fake clock driving both it and the Manager,
// and what the Manager logged and reported.
type fixture struct {
	srv    *ebaytest.Server
	clock  *ebaytest.Clock
	m      *ebayauth.Manager
	events chan ebayauth.Event
	logs   *syncbuf.Buffer
}

// newFixture starts a fake eBay and a Manager for an application token
// against it; edit adjusts the Config first.
func newFixture(t *testing.T, edit func(*ebayauth.Config)) *fixture {
	t.Helper()
	f := &fixture{srv: ebaytest.NewServer(), clock: ebaytest.NewClock(start), events: make(chan ebayauth.Event, 1000), logs: new(syncbuf.Buffer)}
	t.Cleanup(f.srv.Close)
	f.srv.SetNow(f.clock.Now)
	cfg := ebayauth.Config{
		ClientID:     ebaytest.ClientID,
		ClientSecret: ebaytest.ClientSecret,
		Endpoint:     f.srv.Endpoint(),
		Clock:        f.clock,
		RetryMax:     -1,
		Logger:       slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		OnEvent: func(e ebayauth.Event) {
			select {
			case f.events <- e:
			default:
			}
		},
	}
	if edit != nil {
		edit(&cfg)
	}
	m, err := ebayauth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	f.m = m
	return f
}

// waitEvent waits for an event of kind, skipping others.
func (f *fixture) waitEvent(t *testing.T, kind ebayauth.EventKind) ebayauth.Event {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e := <-f.events:
			if e.Kind == kind {
				return e
			}
		case <-timeout:
			t.Fatalf("no %s event within 10 s", kind)
		}
	}
}

func (f *fixture) token(t *testing.T) *ebayauth.Token {
	t.Helper()
	tok, err := f.m.Token(context.Background())
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	return tok
}

// search calls Browse through c and returns the status code.
func search(t *testing.T, c *http.Client, apiURL string) int {
	t.Helper()
	resp, err := c.Get(apiURL + "/buy/browse/v1/item_summary/search?q=drone&limit=1")
	if err != nil {
		t.Errorf("search: %v", err)
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// gate is a RoundTripper in front of the fake's token endpoint that holds
// each token request until released, and says when one arrives.
type gate struct {
	arrived chan struct{}
	release chan struct{}
}

func newGate() *gate { return &gate{arrived: make(chan struct{}, 100), release: make(chan struct{})} }

func (g *gate) RoundTrip(r *http.Request) (*http.Response, error) {
	g.arrived <- struct{}{}
	select {
	case <-g.release:
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
	return http.DefaultTransport.RoundTrip(r)
}

// secretsIn returns the secrets from list that occur in s.
func secretsIn(s string, list ...string) []string {
	var found []string
	for _, sec := range list {
		if sec != "" && strings.Contains(s, sec) {
			found = append(found, sec)
		}
	}
	return found
}

// savedStore is a MemoryStore that says when a Save has returned: a
// Manager writes a token it minted just after handing it out, and tests
// wait for that on saved instead of polling.
type savedStore struct {
	*ebayauth.MemoryStore
	saved chan struct{}
}

func newSavedStore() *savedStore {
	return &savedStore{MemoryStore: ebayauth.NewMemoryStore(), saved: make(chan struct{}, 100)}
}

func (s *savedStore) Save(ctx context.Context, key string, rec *ebayauth.Record) error {
	err := s.MemoryStore.Save(ctx, key, rec)
	select {
	case s.saved <- struct{}{}:
	default:
	}
	return err
}

// syncUntil syncs m with store until m holds tok, waiting for the store's
// saves in between.
func syncUntil(t *testing.T, m *ebayauth.Manager, store *savedStore, tok *ebayauth.Token) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		if err := m.Sync(context.Background()); err != nil {
			t.Fatalf("Sync: %v", err)
		}
		if m.Status().Fingerprint == tok.Fingerprint() {
			return
		}
		select {
		case <-store.saved:
		case <-timeout:
			t.Fatalf("the store does not hold token %v after 10 s", tok)
		}
	}
}
