package ebaysig_test

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/ebaysig"
	"github.com/ebayauth/ebayauth/ebaytest"
	"github.com/ebayauth/ebayauth/filestore"
)

func TestSaveAndLoadKey(t *testing.T) {
	f := newFixture(t)
	srv := f.srv
	fs, err := filestore.New(filepath.Join(t.TempDir(), "tokens.json"))
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]ebayauth.SecretStore{"memory": ebayauth.NewMemoryStore(), "file": fs} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			if _, err := ebaysig.LoadKey(ctx, s); !errors.Is(err, ebayauth.ErrNotFound) {
				t.Fatalf("LoadKey of an empty store: %v; want ErrNotFound", err)
			}
			for _, cipher := range []string{ebaytest.CipherEd25519, ebaytest.CipherRSA} {
				id, jwe, priv := srv.IssueSigningKey(cipher)
				k := ebaysig.Key{ID: id, JWE: jwe, PrivateKey: priv, Expiry: time.Now().Add(3 * 365 * 24 * time.Hour).Truncate(time.Second)}
				if err := ebaysig.SaveKey(ctx, s, k); err != nil {
					t.Fatal(err)
				}
				got, err := ebaysig.LoadKey(ctx, s)
				if err != nil {
					t.Fatal(err)
				}
				if got.ID != k.ID || got.JWE != k.JWE || !got.Expiry.Equal(k.Expiry) {
					t.Errorf("LoadKey = %v; want %v", got, k)
				}
				// The loaded key signs what the fake verifies.
				client := &http.Client{Transport: f.m.Transport(&ebaysig.Transport{Signer: &ebaysig.Signer{Key: got, Clock: f.clock}})}
				if status, body := send(t, client, "GET", srv.URL+txnPath, ""); status != http.StatusOK {
					t.Errorf("%s: a call signed with the loaded key got %d %s; want 200", cipher, status, body)
				}
			}
		})
	}
	if err := ebaysig.SaveKey(context.Background(), ebayauth.NewMemoryStore(), ebaysig.Key{ID: "x"}); err == nil {
		t.Error("SaveKey of a key without a private key = nil; want an error")
	}
}

func TestExpiresSoon(t *testing.T) {
	now := time.Now()
	for _, tt := range []struct {
		expiry time.Time
		want   bool
	}{
		{now.Add(91 * 24 * time.Hour), false},
		{now.Add(89 * 24 * time.Hour), true},
		{now.Add(-time.Hour), true},
		{time.Time{}, false},
	} {
		if got := (ebaysig.Key{Expiry: tt.expiry}).ExpiresSoon(now); got != tt.want {
			t.Errorf("ExpiresSoon with expiry in %v = %v; want %v", tt.expiry.Sub(now).Round(time.Hour), got, tt.want)
		}
	}
}
