package console

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/ebaytest"
)

// benchSellers is how many sellers the page benchmarks list.
const benchSellers = 10000

// newBenchConsole returns a console over an AccountStore (a MemoryStore,
// or with indexed an indexedStore) of n sellers, one in a hundred needing
// consent, with pages of 50. Nothing contacts eBay: a page reads each
// shown seller's status from their Manager and the store.
func newBenchConsole(b *testing.B, n int, indexed bool) *Console {
	b.Helper()
	clock := ebaytest.NewClock(farStart)
	var store ebayauth.AccountStore = ebayauth.NewMemoryStore()
	if indexed {
		store = &indexedStore{accounts: map[string]*ebayauth.Account{}}
	}
	ctx := context.Background()
	for i := range n {
		a := &ebayauth.Account{ID: fmt.Sprintf("u%06d", i), Username: fmt.Sprintf("seller_%06d", i), Marketplace: "EBAY_US",
			RefreshToken: fmt.Sprintf("v^1.1#i^1#rt-%06d", i), RefreshTokenExpiry: farStart.Add(500 * 24 * time.Hour),
			NeedsConsent: i%100 == 42}
		if err := store.SaveAccount(ctx, a); err != nil {
			b.Fatal(err)
		}
	}
	accts, err := ebayauth.NewAccounts(ebayauth.Config{ClientID: ebaytest.ClientID, ClientSecret: ebaytest.ClientSecret,
		RuName: ebaytest.RuName, Clock: clock, Logger: slog.New(slog.DiscardHandler)}, store)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { accts.Close() })
	rec := NewRecorder(RecorderConfig{Clock: clock})
	for i := range DefaultRecorderEvents {
		rec.Observe(ebayauth.Event{Kind: ebayauth.EventRefreshed, Account: fmt.Sprintf("u%06d", i), Fingerprint: "0123456789ab",
			Time: farStart.Add(-time.Duration(i) * time.Minute)})
	}
	con, err := New(Config{Accounts: accts, AccountStore: store, Recorder: rec, Clock: clock, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	return con
}

// BenchmarkAccountsPage renders pages of the sellers table over 10,000
// sellers: the first page, a page deep in, a filter and a search that read
// all 10,000 accounts, and the JSON the page's script polls.
func BenchmarkAccountsPage(b *testing.B) {
	b.Run("MemoryStore", func(b *testing.B) { benchPages(b, newBenchConsole(b, benchSellers, false)) })
	b.Run("indexed store", func(b *testing.B) { benchPages(b, newBenchConsole(b, benchSellers, true)) })
}

func benchPages(b *testing.B, con *Console) {
	for _, bc := range []struct{ name, path, want string }{
		{"first page", "/", "seller_000049"},
		{"page deep in", "/?after=u009000", "seller_009050"},
		{"filter needs consent, full scan", "/?state=needs_consent", "seller_004942"},
		{"search, full scan", "/?q=seller_009999", "seller_009999"},
		{"json of the first page", "/api/state", "seller_000049"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var size int
			for b.Loop() {
				r := httptest.NewRequest(http.MethodGet, bc.path, nil)
				r.RemoteAddr = "127.0.0.1:50000"
				w := httptest.NewRecorder()
				con.ServeHTTP(w, r)
				if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), bc.want) {
					b.Fatalf("GET %s = %d, lacking %s", bc.path, w.Code, bc.want)
				}
				size = w.Body.Len()
			}
			b.ReportMetric(float64(size), "bytes/page")
		})
	}
}

// BenchmarkRecorderObserve is the cost of the OnEvent hook.
func BenchmarkRecorderObserve(b *testing.B) {
	r := NewRecorder(RecorderConfig{})
	e := ebayauth.Event{Kind: ebayauth.EventRefreshed, Account: "u000001", Fingerprint: "0123456789ab", Time: farStart}
	for b.Loop() {
		r.Observe(e)
	}
}

// BenchmarkRecorderMemory reports the heap a full Recorder holds: its
// ring of DefaultRecorderEvents events, each with an error text of 200
// bytes and its own account id, and 24 hours of buckets.
func BenchmarkRecorderMemory(b *testing.B) {
	keep := make([]*Recorder, 0, 64)
	var total uint64
	for b.Loop() {
		clear(keep) // drop the last round's Recorders before measuring
		keep = keep[:0]
		before := heap()
		for range cap(keep) {
			r := NewRecorder(RecorderConfig{})
			for i := range DefaultRecorderEvents {
				r.Observe(ebayauth.Event{Kind: ebayauth.EventRefreshFailed, Account: fmt.Sprintf("u%06d", i),
					Time: farStart.Add(time.Duration(i) * time.Minute), Err: errors.New(strings.Repeat("x", 200))})
			}
			keep = append(keep, r)
		}
		total = (heap() - before) / uint64(cap(keep))
	}
	runtime.KeepAlive(keep)
	b.ReportMetric(float64(total), "B/recorder")
}

func heap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// indexedStore is an AccountStore that lists by binary search over sorted
// ids, as a database with an index on the id does; MemoryStore sorts every
// id on each ListAccounts, which dominates its pages' time.
type indexedStore struct {
	accounts map[string]*ebayauth.Account
	ids      []string // sorted
}

func (s *indexedStore) LoadAccount(_ context.Context, id string) (*ebayauth.Account, error) {
	a, ok := s.accounts[id]
	if !ok {
		return nil, ebayauth.ErrNotFound
	}
	c := *a
	return &c, nil
}

// SaveAccount appends: the benchmark saves in id order, before any read.
func (s *indexedStore) SaveAccount(_ context.Context, a *ebayauth.Account) error {
	if _, ok := s.accounts[a.ID]; !ok {
		s.ids = append(s.ids, a.ID)
	}
	c := *a
	s.accounts[a.ID] = &c
	return nil
}

func (s *indexedStore) DeleteAccount(context.Context, string) error {
	return errors.New("indexedStore: read-only")
}

func (s *indexedStore) ListAccounts(_ context.Context, after string, limit int) ([]*ebayauth.Account, error) {
	i, _ := slices.BinarySearch(s.ids, after)
	if i < len(s.ids) && s.ids[i] == after {
		i++
	}
	out := make([]*ebayauth.Account, 0, min(limit, len(s.ids)-i))
	for _, id := range s.ids[i:min(i+limit, len(s.ids))] {
		c := *s.accounts[id]
		out = append(out, &c)
	}
	return out, nil
}
