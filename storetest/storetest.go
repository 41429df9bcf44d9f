// Package storetest is a conformance suite for implementations of
// ebayauth.Store and ebayauth.Locker, in the spirit of
// github.com/gregjones/httpcache/test: every store in this module passes
// Run, and so should a third-party one.
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) ebayauth.Store {
//			s, err := mystore.New(t.TempDir())
//			if err != nil {
//				t.Fatal(err)
//			}
//			return s
//		})
//	}
//
// The suite checks that a store judges no token's expiry by its own clock:
// it saves records from 2020 and 2040, and runs two Managers on fake clocks
// in those years over the store, which must share one mint per rotation.
// Lock leases do run on the wall clock (locks with a 200 ms lease), so the
// suite takes a moment to run. It never sleeps to wait for something it
// can poll for.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ebayauth/ebayauth"
)

// Timing of the tests that wait for a store's own clock.
const (
	// shortLease is the lease of the locks the lapse tests wait out.
	shortLease = 200 * time.Millisecond
	// patience bounds every wait for a store to let something lapse, on top
	// of the token's expiry or the lock's lease.
	patience = 10 * time.Second
	// pollEvery is how often a wait polls the store.
	pollEvery = 20 * time.Millisecond
)

// Run runs the conformance suite as subtests of t. newStore is called once
// in each subtest, with the subtest's t, and must return a store that no
// other subtest sees: a fresh one, or a shared backend under a fresh key
// prefix. It may register cleanups on t. The suite uses only keys made by
// Key, so a store that shares a backend with others also works.
//
// If the store is also an ebayauth.Locker, Run checks the lock as well, and
// if it is an ebayauth.AccountStore, the accounts; otherwise those subtests
// are skipped.
func Run(t *testing.T, newStore func(t *testing.T) ebayauth.Store) {
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, newStore(t)) })
	t.Run("Missing", func(t *testing.T) { testMissing(t, newStore(t)) })
	t.Run("KeysIndependent", func(t *testing.T) { testKeysIndependent(t, newStore(t)) })
	t.Run("Copies", func(t *testing.T) { testCopies(t, newStore(t)) })
	t.Run("NoToken", func(t *testing.T) { testNoToken(t, newStore(t)) })
	t.Run("AnyClock", func(t *testing.T) { testAnyClock(t, newStore(t)) })
	t.Run("SameExpiryReplaces", func(t *testing.T) { testSameExpiryReplaces(t, newStore(t)) })
	t.Run("ManagersOnAnyClock", func(t *testing.T) { testManagersOnAnyClock(t, newStore) })
	t.Run("LaterReplaces", func(t *testing.T) { testLaterReplaces(t, newStore(t)) })
	t.Run("EarlierKept", func(t *testing.T) { testEarlierKept(t, newStore(t)) })
	t.Run("Delete", func(t *testing.T) { testDelete(t, newStore(t)) })
	t.Run("ConcurrentSave", func(t *testing.T) { testConcurrentSave(t, newStore(t)) })
	t.Run("CancelledContext", func(t *testing.T) { testCancelledContext(t, newStore(t)) })
	t.Run("Accounts", func(t *testing.T) {
		if _, ok := newStore(t).(ebayauth.AccountStore); !ok {
			t.Skip("store does not implement ebayauth.AccountStore")
		}
		runAccounts(t, newStore)
	})
	t.Run("Secrets", func(t *testing.T) {
		ss, ok := newStore(t).(ebayauth.SecretStore)
		if !ok {
			t.Skip("store does not implement ebayauth.SecretStore")
		}
		testSecrets(t, ss)
	})
	t.Run("Lock", func(t *testing.T) {
		if _, ok := newStore(t).(ebayauth.Locker); !ok {
			t.Skip("store does not implement ebayauth.Locker")
		}
		newLocker := func(t *testing.T) ebayauth.Locker {
			t.Helper()
			return newStore(t).(ebayauth.Locker)
		}
		t.Run("Exclusive", func(t *testing.T) { testLockExclusive(t, newLocker(t)) })
		t.Run("Race", func(t *testing.T) { testLockRace(t, newLocker(t)) })
		t.Run("Lapse", func(t *testing.T) { testLockLapse(t, newLocker(t)) })
		t.Run("NotHolder", func(t *testing.T) { testLockNotHolder(t, newLocker(t)) })
		t.Run("Relock", func(t *testing.T) { testLockRelock(t, newLocker(t)) })
		t.Run("NonPositiveLease", func(t *testing.T) { testLockNonPositiveLease(t, newLocker(t)) })
		t.Run("CancelledContext", func(t *testing.T) { testLockCancelledContext(t, newLocker(t)) })
	})
}

// Key returns a fresh random key shaped like the ones ebayauth uses: 32
// lowercase hex digits.
func Key(tb testing.TB) string {
	tb.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		tb.Fatalf("storetest: random key: %v", err)
	}
	return hex.EncodeToString(b)
}

// NewToken returns a user token that expires at expiry (the zero time: never)
// and whose access and refresh tokens are random, look like eBay's (they
// contain ^ # + / = and the access token is about 1.7 KB long), and differ
// from every other token NewToken returns.
func NewToken(expiry time.Time) *ebayauth.Token {
	tok := &ebayauth.Token{
		AccessToken:  "v^1.1#i^1#p^3#r^0#I^3#f^0#t^" + randomBase64(1250),
		TokenType:    "User Access Token",
		Expiry:       expiry,
		RefreshToken: "v^1.1#i^1#r^1#f^0#p^3#I^3#t^" + randomBase64(100),
	}
	if !expiry.IsZero() {
		tok.RefreshTokenExpiry = expiry.Add(18 * 30 * 24 * time.Hour)
	}
	return tok
}

// NewRecord returns a record of a NewToken(expiry) minted two hours before
// expiry, with every other field set.
func NewRecord(expiry time.Time) *ebayauth.Record {
	tok := NewToken(expiry)
	rec := &ebayauth.Record{Token: tok, RefreshTokenExpiry: tok.RefreshTokenExpiry}
	if !expiry.IsZero() {
		rec.Minted = expiry.Add(-2 * time.Hour)
		rec.Validated = expiry.Add(-time.Hour)
	}
	return rec
}

// randomBase64 returns n random bytes (n not a multiple of 3, so that the
// text ends in padding) in standard base64, which uses + / and =.
func randomBase64(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.StdEncoding.EncodeToString(b)
}

// Diff compares two records field by field, the times to within a second (a
// store need keep no finer precision), and returns "" if they match or a
// human-readable report of the differences (which shows the credentials: use
// it on test records only).
func Diff(want, got *ebayauth.Record) string {
	return cmp.Diff(want, got, cmpopts.EquateApproxTime(time.Second))
}

func load(t *testing.T, s ebayauth.Store, key string) *ebayauth.Record {
	t.Helper()
	rec, err := s.Load(context.Background(), key)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if rec == nil || rec.Token == nil {
		t.Fatal("Load returned a record with no token and no error")
	}
	return rec
}

func save(t *testing.T, s ebayauth.Store, key string, rec *ebayauth.Record) {
	t.Helper()
	if err := s.Save(context.Background(), key, rec); err != nil {
		t.Fatalf("Save(%v): %v", rec.Token, err)
	}
}

func wantRecord(t *testing.T, s ebayauth.Store, key string, want *ebayauth.Record) {
	t.Helper()
	got := load(t, s, key)
	if d := Diff(want, got); d != "" {
		t.Errorf("Load returned %v; want %v; diff (-want +got):\n%s", got.Token, want.Token, d)
	}
}

func wantNotFound(t *testing.T, s ebayauth.Store, key string) {
	t.Helper()
	rec, err := s.Load(context.Background(), key)
	if !errors.Is(err, ebayauth.ErrNotFound) {
		t.Fatalf("Load = %v, %v; want an error matching ErrNotFound", rec, err)
	}
}

func testRoundTrip(t *testing.T, s ebayauth.Store) {
	exp := time.Now().Add(2 * time.Hour).Truncate(time.Second)
	tests := []struct {
		name string
		rec  *ebayauth.Record
	}{
		{"UserToken", NewRecord(exp)},
		{"ApplicationToken", &ebayauth.Record{Token: &ebayauth.Token{
			AccessToken: "v^1.1#i^1#I^3#f^0#p^1#r^1#t^" + randomBase64(1000),
			TokenType:   "Application Access Token",
			Expiry:      exp,
		}, Minted: exp.Add(-2 * time.Hour)}},
		{"SubSecondExpiry", func() *ebayauth.Record {
			rec := NewRecord(time.Now().Add(90 * time.Minute))
			rec.RefreshTokenExpiry = rec.Token.Expiry.Add(time.Hour + 123*time.Millisecond)
			return rec
		}()},
		{"NonUTCExpiry", NewRecord(exp.In(time.FixedZone("MST", -7*3600)))},
		{"NeverExpires", &ebayauth.Record{Token: &ebayauth.Token{AccessToken: "static^token#+/=", TokenType: "User Access Token"}}},
		{"Short", &ebayauth.Record{Token: &ebayauth.Token{AccessToken: "a", Expiry: exp}}},
		{"Verdicts", func() *ebayauth.Record {
			rec := NewRecord(exp)
			rec.ValidationError = `ebayauth: eBay API answered HTTP 401; error 1001: "Invalid access token"`
			rec.Rejected = exp.Add(-time.Minute)
			return rec
		}()},
		{"Odd characters", &ebayauth.Record{Token: &ebayauth.Token{
			AccessToken:  "^#+/=%\"'\\:;,{}[]<> \t\n\x00é€" + randomBase64(2),
			TokenType:    `"quoted"`,
			Expiry:       exp,
			RefreshToken: "=#^+/",
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := Key(t)
			save(t, s, key, tt.rec)
			wantRecord(t, s, key, tt.rec)
			// A second Load sees the same record: loading does not consume.
			wantRecord(t, s, key, tt.rec)
		})
	}
}

func testMissing(t *testing.T, s ebayauth.Store) {
	wantNotFound(t, s, Key(t))
}

func testNoToken(t *testing.T, s ebayauth.Store) {
	key := Key(t)
	for _, rec := range []*ebayauth.Record{nil, {}, {Token: &ebayauth.Token{}}} {
		if err := s.Save(context.Background(), key, rec); err == nil {
			t.Errorf("Save(%+v) = nil; want an error: a record needs a token", rec)
		}
	}
	wantNotFound(t, s, key)
}

func testKeysIndependent(t *testing.T, s ebayauth.Store) {
	k1, k2 := Key(t), Key(t)
	r1, r2 := NewRecord(time.Now().Add(2*time.Hour)), NewRecord(time.Now().Add(time.Hour))
	save(t, s, k1, r1)
	wantNotFound(t, s, k2)
	save(t, s, k2, r2)
	wantRecord(t, s, k1, r1)
	wantRecord(t, s, k2, r2)
	if err := s.Delete(context.Background(), k1); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantNotFound(t, s, k1)
	wantRecord(t, s, k2, r2)
}

// testCopies checks that the store keeps neither the record it was given
// nor the one it returned.
func testCopies(t *testing.T, s ebayauth.Store) {
	key := Key(t)
	rec := NewRecord(time.Now().Add(time.Hour))
	tok := *rec.Token
	want := *rec
	want.Token = &tok
	save(t, s, key, rec)
	rec.Token.AccessToken = "changed after Save"
	rec.Token.Expiry = rec.Token.Expiry.Add(time.Hour)
	rec.ValidationError = "changed after Save"
	got := load(t, s, key)
	got.Token.AccessToken = "changed after Load"
	got.Minted = time.Time{}
	wantRecord(t, s, key, &want)
}

// testAnyClock checks that the store judges no expiry: records whose
// tokens expired long ago, expire far ahead, or expired a moment ago by the
// wall clock are kept and returned as saved, since the Manager that reads
// them may run on a clock of its own.
func testAnyClock(t *testing.T, s ebayauth.Store) {
	tests := []struct {
		name   string
		expiry time.Time
	}{
		{"2020", time.Date(2020, 3, 1, 9, 0, 0, 0, time.UTC)},
		{"2040", time.Date(2040, 3, 1, 9, 0, 0, 0, time.UTC)},
		{"AMomentAgo", time.Now().Add(-time.Second)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := Key(t)
			rec := NewRecord(tt.expiry)
			save(t, s, key, rec)
			wantRecord(t, s, key, rec)
			// A later record replaces it, on the same clock.
			next := NewRecord(tt.expiry.Add(time.Hour))
			save(t, s, key, next)
			wantRecord(t, s, key, next)
		})
	}
}

// testSameExpiryReplaces checks that news about a token (a validation's
// verdict, eBay's refusal) reaches the store: a record for the same expiry
// replaces the old one.
func testSameExpiryReplaces(t *testing.T, s ebayauth.Store) {
	key := Key(t)
	rec := NewRecord(time.Now().Add(time.Hour))
	save(t, s, key, rec)
	news := *rec
	news.Validated = rec.Validated.Add(time.Minute)
	news.ValidationError = "ebayauth: eBay API answered HTTP 401"
	news.Rejected = news.Validated
	save(t, s, key, &news)
	wantRecord(t, s, key, &news)
}

func testLaterReplaces(t *testing.T, s ebayauth.Store) {
	now := time.Now()
	tests := []struct {
		name          string
		first, second *ebayauth.Record
	}{
		{"Later", NewRecord(now.Add(time.Hour)), NewRecord(now.Add(2 * time.Hour))},
		{"Never", NewRecord(now.Add(time.Hour)), NewRecord(time.Time{})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := Key(t)
			save(t, s, key, tt.first)
			save(t, s, key, tt.second)
			wantRecord(t, s, key, tt.second)
		})
	}
}

func testEarlierKept(t *testing.T, s ebayauth.Store) {
	now := time.Now()
	tests := []struct {
		name          string
		first, second *ebayauth.Record
	}{
		{"Earlier", NewRecord(now.Add(2 * time.Hour)), NewRecord(now.Add(time.Hour))},
		{"ByMinute", NewRecord(now.Add(time.Hour + time.Minute)), NewRecord(now.Add(time.Hour))},
		{"AfterNever", NewRecord(time.Time{}), NewRecord(now.Add(time.Hour))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := Key(t)
			save(t, s, key, tt.first)
			save(t, s, key, tt.second) // not an error: the store keeps the later one
			wantRecord(t, s, key, tt.first)
		})
	}
}

func testDelete(t *testing.T, s ebayauth.Store) {
	ctx := context.Background()
	key := Key(t)
	if err := s.Delete(ctx, key); err != nil {
		t.Errorf("Delete of a missing key: %v; want nil", err)
	}
	save(t, s, key, NewRecord(time.Now().Add(2*time.Hour)))
	if err := s.Delete(ctx, key); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantNotFound(t, s, key)
	if err := s.Delete(ctx, key); err != nil {
		t.Errorf("second Delete: %v; want nil", err)
	}
	// Delete forgets the expiry too: an earlier-expiring record may follow.
	rec := NewRecord(time.Now().Add(time.Hour))
	save(t, s, key, rec)
	wantRecord(t, s, key, rec)
}

func testConcurrentSave(t *testing.T, s ebayauth.Store) {
	const writers = 16
	key := Key(t)
	base := time.Now().Add(time.Hour)
	recs := make([]*ebayauth.Record, writers)
	for i := range recs {
		// Expiries a second apart, in an order the writers do not follow.
		recs[i] = NewRecord(base.Add(time.Duration((i*7)%writers) * time.Second))
	}
	latest := recs[0]
	for _, rec := range recs {
		if rec.Token.Expiry.After(latest.Token.Expiry) {
			latest = rec
		}
	}

	start := make(chan struct{})
	errs := make(chan error, 2*writers)
	var wg sync.WaitGroup
	for _, rec := range recs {
		wg.Go(func() {
			<-start
			if err := s.Save(context.Background(), key, rec); err != nil {
				errs <- fmt.Errorf("concurrent Save(%v): %w", rec.Token, err)
			}
		})
		wg.Go(func() {
			<-start
			got, err := s.Load(context.Background(), key)
			switch {
			case errors.Is(err, ebayauth.ErrNotFound):
			case err != nil:
				errs <- fmt.Errorf("concurrent Load: %w", err)
			case got == nil || got.Token == nil || got.Token.AccessToken == "":
				errs <- fmt.Errorf("concurrent Load returned %v and no error", got)
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	wantRecord(t, s, key, latest)
}

func testCancelledContext(t *testing.T, s ebayauth.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	key := Key(t)
	if err := s.Save(ctx, key, NewRecord(time.Now().Add(time.Hour))); !errors.Is(err, context.Canceled) {
		t.Errorf("Save with a cancelled context: %v; want an error matching context.Canceled", err)
	}
	if rec, err := s.Load(ctx, key); !errors.Is(err, context.Canceled) {
		t.Errorf("Load with a cancelled context = %v, %v; want an error matching context.Canceled", rec, err)
	}
	if err := s.Delete(ctx, key); !errors.Is(err, context.Canceled) {
		t.Errorf("Delete with a cancelled context: %v; want an error matching context.Canceled", err)
	}
	// The cancelled Save saved nothing, and the cancelled Delete deleted
	// nothing.
	wantNotFound(t, s, key)
	rec := NewRecord(time.Now().Add(time.Hour))
	save(t, s, key, rec)
	_ = s.Delete(ctx, key)
	wantRecord(t, s, key, rec)
}

func lock(t *testing.T, l ebayauth.Locker, key string, lease time.Duration) func(context.Context) error {
	t.Helper()
	unlock, err := l.Lock(context.Background(), key, lease)
	if err != nil {
		t.Fatalf("Lock(%v): %v", lease, err)
	}
	if unlock == nil {
		t.Fatal("Lock returned a nil unlock func and no error")
	}
	return unlock
}

func unlock(t *testing.T, unlock func(context.Context) error) {
	t.Helper()
	if err := unlock(context.Background()); err != nil {
		t.Fatalf("unlock: %v", err)
	}
}

func wantLocked(t *testing.T, l ebayauth.Locker, key string) {
	t.Helper()
	wantLockedUntil(t, l, key, time.Time{})
}

// wantLockedUntil checks that key is locked, if it is not yet lease: the
// time when the lease of its lock, taken just before, lapses (zero if not
// soon).
func wantLockedUntil(t *testing.T, l ebayauth.Locker, key string, lease time.Time) {
	t.Helper()
	unlock, err := l.Lock(context.Background(), key, time.Minute)
	if err == nil {
		_ = unlock(context.Background())
		if !lease.IsZero() && !time.Now().Before(lease) {
			t.Logf("the lease lapsed before the lock could be tried")
			return
		}
	}
	if !errors.Is(err, ebayauth.ErrLocked) {
		t.Fatalf("Lock of a held key: %v; want an error matching ErrLocked", err)
	}
}

// lockWithin polls until l grants the lock on key or patience runs out.
func lockWithin(t *testing.T, l ebayauth.Locker, key string, lease time.Duration) func(context.Context) error {
	t.Helper()
	deadline := time.Now().Add(patience)
	for {
		unlock, err := l.Lock(context.Background(), key, lease)
		if err == nil {
			return unlock
		}
		if !errors.Is(err, ebayauth.ErrLocked) {
			t.Fatalf("Lock: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("Lock still returns %v after %v", err, patience)
		}
		time.Sleep(pollEvery)
	}
}

func testLockExclusive(t *testing.T, l ebayauth.Locker) {
	key := Key(t)
	u := lock(t, l, key, time.Minute)
	wantLocked(t, l, key)
	// Other keys are not locked, and the lock does not hide the token.
	other := lock(t, l, Key(t), time.Minute)
	unlock(t, other)
	if s, ok := l.(ebayauth.Store); ok {
		rec := NewRecord(time.Now().Add(time.Hour))
		save(t, s, key, rec)
		wantRecord(t, s, key, rec)
	}
	unlock(t, u)
}

func testLockRace(t *testing.T, l ebayauth.Locker) {
	const racers = 20
	key := Key(t)
	start := make(chan struct{})
	var (
		mu      sync.Mutex
		winners []func(context.Context) error
		wg      sync.WaitGroup
	)
	for range racers {
		wg.Go(func() {
			<-start
			unlock, err := l.Lock(context.Background(), key, time.Minute)
			switch {
			case err == nil:
				mu.Lock()
				winners = append(winners, unlock)
				mu.Unlock()
			case !errors.Is(err, ebayauth.ErrLocked):
				t.Errorf("Lock: %v; want nil or ErrLocked", err)
			}
		})
	}
	close(start)
	wg.Wait()
	if len(winners) != 1 {
		t.Errorf("%d of %d racing Locks won; want 1", len(winners), racers)
	}
	for _, u := range winners {
		unlock(t, u)
	}
}

func testLockLapse(t *testing.T, l ebayauth.Locker) {
	key := Key(t)
	lapse := time.Now().Add(shortLease)
	lock(t, l, key, shortLease) // never unlocked: its holder died
	wantLockedUntil(t, l, key, lapse)
	u := lockWithin(t, l, key, time.Minute)
	unlock(t, u)
}

// testLockNotHolder checks that a holder whose lease lapsed cannot release
// the lock of the one who took it next, whether or not it had unlocked.
func testLockNotHolder(t *testing.T, l ebayauth.Locker) {
	key := Key(t)
	unlockA := lock(t, l, key, shortLease)
	unlockB := lockWithin(t, l, key, time.Minute)
	// A's unlock comes too late; whether it reports that is up to the store.
	if err := unlockA(context.Background()); err != nil {
		t.Logf("unlock after the lease lapsed: %v", err)
	}
	wantLocked(t, l, key)
	unlock(t, unlockB)

	// A holder that unlocks twice does not release the next holder's lock.
	unlockC := lock(t, l, key, time.Minute)
	unlock(t, unlockC)
	unlockD := lock(t, l, key, time.Minute)
	if err := unlockC(context.Background()); err != nil {
		t.Logf("second unlock: %v", err)
	}
	wantLocked(t, l, key)
	unlock(t, unlockD)
}

func testLockRelock(t *testing.T, l ebayauth.Locker) {
	key := Key(t)
	for i := range 3 {
		u, err := l.Lock(context.Background(), key, time.Minute)
		if err != nil {
			t.Fatalf("Lock #%d after unlock: %v", i+1, err)
		}
		unlock(t, u)
	}
}

// testLockNonPositiveLease checks that a zero or negative lease does not
// lock a key for good: Lock either refuses it or grants a lock that has
// already lapsed.
func testLockNonPositiveLease(t *testing.T, l ebayauth.Locker) {
	for _, lease := range []time.Duration{0, -time.Second} {
		t.Run(lease.String(), func(t *testing.T) {
			key := Key(t)
			u, err := l.Lock(context.Background(), key, lease)
			if err != nil {
				if errors.Is(err, ebayauth.ErrLocked) {
					t.Fatalf("Lock(%v) of a free key: %v", lease, err)
				}
			} else {
				defer u(context.Background())
			}
			unlock(t, lockWithin(t, l, key, time.Minute))
		})
	}
}

func testLockCancelledContext(t *testing.T, l ebayauth.Locker) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	key := Key(t)
	if u, err := l.Lock(ctx, key, time.Minute); !errors.Is(err, context.Canceled) {
		if err == nil {
			_ = u(context.Background())
		}
		t.Fatalf("Lock with a cancelled context: %v; want an error matching context.Canceled", err)
	}
	// The cancelled Lock took nothing.
	unlock(t, lock(t, l, key, time.Minute))
}
