package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ebayauth/ebayauth"
)

// runAccounts runs the AccountStore part of the suite, for stores that are
// also AccountStores.
func runAccounts(t *testing.T, newStore func(t *testing.T) ebayauth.Store) {
	as := func(t *testing.T) ebayauth.AccountStore {
		t.Helper()
		return newStore(t).(ebayauth.AccountStore)
	}
	t.Run("RoundTrip", func(t *testing.T) { testAccountRoundTrip(t, as(t)) })
	t.Run("Missing", func(t *testing.T) { testAccountMissing(t, as(t)) })
	t.Run("Replace", func(t *testing.T) { testAccountReplace(t, as(t)) })
	t.Run("Invalid", func(t *testing.T) { testAccountInvalid(t, as(t)) })
	t.Run("Copies", func(t *testing.T) { testAccountCopies(t, as(t)) })
	t.Run("DeleteForgetsTokens", func(t *testing.T) { testAccountDelete(t, newStore(t)) })
	t.Run("List", func(t *testing.T) { testAccountList(t, as(t)) })
	t.Run("CancelledContext", func(t *testing.T) { testAccountCancelled(t, as(t)) })
}

// NewAccount returns an account with every field set, a random refresh
// token shaped like eBay's, and an id made from Key so that stores shared
// between tests do not mix them up.
func NewAccount(tb testing.TB) *ebayauth.Account {
	tb.Helper()
	now := time.Now().Truncate(time.Second)
	return &ebayauth.Account{
		ID:                 "u" + Key(tb)[:12],
		Username:           "seller_" + Key(tb)[:6],
		RefreshToken:       "v^1.1#i^1#r^1#f^0#p^3#I^3#t^" + randomBase64(100),
		RefreshTokenExpiry: now.Add(18 * 30 * 24 * time.Hour),
		Scopes:             []string{ebayauth.ScopeAPI + "/sell.inventory", ebayauth.ScopeIdentity},
		Marketplace:        "EBAY_GB",
		Created:            now.Add(-time.Hour),
		Updated:            now,
	}
}

// DiffAccounts compares accounts field by field, times to within a second.
func DiffAccounts(want, got *ebayauth.Account) string {
	return cmp.Diff(want, got, cmpopts.EquateApproxTime(time.Second), cmpopts.EquateEmpty())
}

func wantAccount(t *testing.T, s ebayauth.AccountStore, want *ebayauth.Account) {
	t.Helper()
	got, err := s.LoadAccount(context.Background(), want.ID)
	if err != nil {
		t.Fatalf("LoadAccount(%s): %v", want.ID, err)
	}
	if d := DiffAccounts(want, got); d != "" {
		t.Errorf("LoadAccount(%s) differs (-want +got):\n%s", want.ID, d)
	}
}

func saveAccount(t *testing.T, s ebayauth.AccountStore, a *ebayauth.Account) {
	t.Helper()
	if err := s.SaveAccount(context.Background(), a); err != nil {
		t.Fatalf("SaveAccount(%s): %v", a.ID, err)
	}
}

func testAccountRoundTrip(t *testing.T, s ebayauth.AccountStore) {
	a := NewAccount(t)
	saveAccount(t, s, a)
	wantAccount(t, s, a)
	odd := NewAccount(t)
	odd.RefreshToken = "^#+/=%\"'\\:;,{}[]<> é€" + randomBase64(2)
	odd.Username = `o'brien "quoted"`
	odd.NeedsConsent = true
	odd.Scopes = nil
	odd.RefreshTokenExpiry = time.Time{}
	saveAccount(t, s, odd)
	wantAccount(t, s, odd)
}

func testAccountMissing(t *testing.T, s ebayauth.AccountStore) {
	if a, err := s.LoadAccount(context.Background(), "nobody-"+Key(t)); !errors.Is(err, ebayauth.ErrNotFound) {
		t.Errorf("LoadAccount of a missing id = %v, %v; want ErrNotFound", a, err)
	}
	if err := s.DeleteAccount(context.Background(), "nobody-"+Key(t)); err != nil {
		t.Errorf("DeleteAccount of a missing id: %v; want nil", err)
	}
}

func testAccountReplace(t *testing.T, s ebayauth.AccountStore) {
	a := NewAccount(t)
	saveAccount(t, s, a)
	b := *a
	b.RefreshToken = "v^1.1#new-consent" + randomBase64(10)
	b.Username = "renamed"
	b.NeedsConsent = false
	b.Updated = a.Updated.Add(time.Minute)
	saveAccount(t, s, &b)
	wantAccount(t, s, &b)
}

func testAccountInvalid(t *testing.T, s ebayauth.AccountStore) {
	for name, a := range map[string]*ebayauth.Account{
		"nil": nil, "no id": {RefreshToken: "x"}, "no refresh token": {ID: "u" + Key(t)[:8]},
	} {
		if err := s.SaveAccount(context.Background(), a); err == nil {
			t.Errorf("SaveAccount(%s) = nil; want an error", name)
		}
	}
}

func testAccountCopies(t *testing.T, s ebayauth.AccountStore) {
	a := NewAccount(t)
	want := *a
	want.Scopes = append([]string(nil), a.Scopes...)
	saveAccount(t, s, a)
	a.Scopes[0] = "changed after Save"
	a.RefreshToken = "changed after Save"
	got, err := s.LoadAccount(context.Background(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	got.Scopes[0] = "changed after Load"
	wantAccount(t, s, &want)
}

// testAccountDelete checks that DeleteAccount forgets the account's
// access-token records, and only those.
func testAccountDelete(t *testing.T, store ebayauth.Store) {
	s := store.(ebayauth.AccountStore)
	ctx := context.Background()
	a, other := NewAccount(t), NewAccount(t)
	saveAccount(t, s, a)
	saveAccount(t, s, other)
	mine, theirs, app := Key(t), Key(t), Key(t)
	r1 := NewRecord(time.Now().Add(time.Hour))
	r1.Account = a.ID
	r2 := NewRecord(time.Now().Add(time.Hour))
	r2.Account = other.ID
	save(t, store, mine, r1)
	save(t, store, theirs, r2)
	save(t, store, app, NewRecord(time.Now().Add(time.Hour)))
	if err := s.DeleteAccount(ctx, a.ID); err != nil {
		t.Fatalf("DeleteAccount: %v", err)
	}
	if _, err := s.LoadAccount(ctx, a.ID); !errors.Is(err, ebayauth.ErrNotFound) {
		t.Errorf("LoadAccount after DeleteAccount: %v; want ErrNotFound", err)
	}
	wantNotFound(t, store, mine)
	wantRecord(t, store, theirs, r2)
	wantAccount(t, s, other)
	if _, err := store.Load(ctx, app); err != nil {
		t.Errorf("an application token's record went with the account: %v", err)
	}
}

func testAccountList(t *testing.T, s ebayauth.AccountStore) {
	ctx := context.Background()
	prefix := "L" + Key(t)[:8] + "-"
	const n = 25
	want := make([]string, n)
	for i := range n {
		a := NewAccount(t)
		a.ID = fmt.Sprintf("%s%03d", prefix, (i*7)%n) // saved out of order
		want[(i*7)%n] = a.ID
		saveAccount(t, s, a)
	}
	var got []string
	after := prefix // IDs of this test sort after the bare prefix
	for page := 0; ; page++ {
		accts, err := s.ListAccounts(ctx, after, 10)
		if err != nil {
			t.Fatalf("ListAccounts(%q, 10): %v", after, err)
		}
		if len(accts) > 10 {
			t.Fatalf("page %d has %d accounts; want at most 10", page, len(accts))
		}
		stop := len(accts) == 0
		for _, a := range accts {
			if a.ID > prefix+"~" { // past this test's ids: another test's
				stop = true
				break
			}
			if a.RefreshToken == "" {
				t.Errorf("listed account %s has no refresh token", a.ID)
			}
			got = append(got, a.ID)
		}
		if stop {
			break
		}
		after = accts[len(accts)-1].ID
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("paging through ListAccounts (-want +got):\n%s", d)
	}
	if _, err := s.ListAccounts(ctx, "", 0); err == nil {
		t.Error("ListAccounts with limit 0 = nil error; want one")
	}
}

func testAccountCancelled(t *testing.T, s ebayauth.AccountStore) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	a := NewAccount(t)
	if err := s.SaveAccount(ctx, a); !errors.Is(err, context.Canceled) {
		t.Errorf("SaveAccount with a cancelled context: %v; want context.Canceled", err)
	}
	if _, err := s.LoadAccount(ctx, a.ID); !errors.Is(err, context.Canceled) {
		t.Errorf("LoadAccount with a cancelled context: %v; want context.Canceled", err)
	}
	if _, err := s.ListAccounts(ctx, "", 10); !errors.Is(err, context.Canceled) {
		t.Errorf("ListAccounts with a cancelled context: %v; want context.Canceled", err)
	}
}
