package ebaysig_test

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ebayauth/ebayauth/ebaysig"
	"github.com/ebayauth/ebayauth/ebaytest"
)

func TestKeyClient(t *testing.T) {
	f := newFixture(t)
	now := f.clock.Now().Truncate(time.Second) // eBay's times are whole seconds
	app := newManager(t, f.srv, f.clock, "")
	kc := &ebaysig.KeyClient{HTTPClient: app.Client(), BaseURL: f.srv.URL}
	ctx := context.Background()

	var created []ebaysig.Key
	for _, tt := range []struct {
		cipher ebaysig.Cipher
		isType func(crypto.Signer) bool
	}{
		{ebaysig.Ed25519, func(k crypto.Signer) bool { _, ok := k.(ed25519.PrivateKey); return ok }},
		{ebaysig.RSA, func(k crypto.Signer) bool { _, ok := k.(*rsa.PrivateKey); return ok }},
	} {
		key, err := kc.Create(ctx, tt.cipher)
		if err != nil {
			t.Fatalf("Create(%s): %v", tt.cipher, err)
		}
		if key.ID == "" || !strings.HasPrefix(key.JWE, "eyJ") || !tt.isType(key.PrivateKey) {
			t.Errorf("Create(%s): got %v with a %T", tt.cipher, key, key.PrivateKey)
		}
		if want := now.Add(ebaytest.SigningKeyLifetime); !key.Expiry.Equal(want) {
			t.Errorf("Create(%s) Expiry: got %v; want %v", tt.cipher, key.Expiry, want)
		}
		// The new key signs a seller's call the fake accepts.
		client := &http.Client{Transport: f.m.Transport(&ebaysig.Transport{Signer: &ebaysig.Signer{Key: key, Clock: f.clock}})}
		if status, body := send(t, client, "POST", f.srv.URL+refundPath, refundBody); status != http.StatusOK {
			t.Errorf("refund signed with the %s key: got %d %s; want 200", tt.cipher, status, body)
		}
		created = append(created, key)
	}

	list, err := kc.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != len(created) {
		t.Fatalf("List: got %d keys; want %d", len(list), len(created))
	}
	for i, sk := range list {
		want := created[i]
		if sk.ID != want.ID || sk.JWE != want.JWE || !sk.Expiry.Equal(want.Expiry) || !sk.Created.Equal(now) || sk.PublicKey == "" {
			t.Errorf("List[%d]: got %+v; want id %q, its JWE and expiry", i, sk, want.ID)
		}
		if k := sk.Key(want.PrivateKey); k.ID != want.ID || k.JWE != want.JWE || k.PrivateKey == nil || !k.Expiry.Equal(want.Expiry) {
			t.Errorf("SigningKey.Key: got %v; want %v", k, want)
		}
	}
	if list[0].Cipher != ebaysig.Ed25519 || list[1].Cipher != ebaysig.RSA {
		t.Errorf("ciphers: got %q, %q; want ED25519, RSA", list[0].Cipher, list[1].Cipher)
	}

	got, err := kc.Get(ctx, created[1].ID)
	if err != nil {
		t.Fatal(err)
	}
	if got != list[1] {
		t.Errorf("Get: got %+v; want %+v", got, list[1])
	}
}

func TestKeyClientErrors(t *testing.T) {
	f := newFixture(t)
	app := newManager(t, f.srv, f.clock, "")
	ctx := context.Background()
	notJSON := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<html>maintenance</html>"))
	}))
	t.Cleanup(notJSON.Close)
	appKC := &ebaysig.KeyClient{HTTPClient: app.Client(), BaseURL: f.srv.URL}

	tests := []struct {
		name        string
		call        func() error
		wantStatus  int // for an *APIError; 0: another error
		wantErrorID int
		wantText    string
	}{
		{"unknown id", func() error {
			_, err := appKC.Get(ctx, "00000000-0000-4000-8000-000000000000")
			return err
		}, 404, 2002, "ebaysig: getSigningKey: HTTP 404 Not Found; error 2002: Resource not found"},
		{"user token", func() error {
			_, err := (&ebaysig.KeyClient{HTTPClient: f.m.Client(), BaseURL: f.srv.URL}).Create(ctx, ebaysig.Ed25519)
			return err
		}, 403, 1100, "ebaysig: createSigningKey: HTTP 403 Forbidden; error 1100: Access denied"},
		{"no token", func() error {
			_, err := (&ebaysig.KeyClient{HTTPClient: f.srv.Client(), BaseURL: f.srv.URL}).List(ctx)
			return err
		}, 400, 1002, "ebaysig: getSigningKeys: HTTP 400 Bad Request; error 1002: Missing access token"},
		{"unknown cipher", func() error {
			_, err := appKC.Create(ctx, "ECDSA")
			return err
		}, 0, 0, `ebaysig: createSigningKey: cipher "ECDSA" is neither ED25519 nor RSA`},
		{"empty id", func() error {
			_, err := appKC.Get(ctx, "")
			return err
		}, 0, 0, "ebaysig: getSigningKey: empty id"},
		{"not JSON", func() error {
			_, err := (&ebaysig.KeyClient{HTTPClient: notJSON.Client(), BaseURL: notJSON.URL}).List(ctx)
			return err
		}, 0, 0, `ebaysig: getSigningKeys: HTTP 200 with Content-Type "text/html", not JSON`},
		{"unreachable", func() error {
			_, err := (&ebaysig.KeyClient{HTTPClient: app.Client(), BaseURL: "http://127.0.0.1:1"}).List(ctx)
			return err
		}, 0, 0, "ebaysig: getSigningKeys: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if err == nil {
				t.Fatal("got no error")
			}
			if !strings.HasPrefix(err.Error(), tt.wantText) {
				t.Errorf("error: got %q; want %q", err, tt.wantText)
			}
			var apiErr *ebaysig.APIError
			if errors.As(err, &apiErr) != (tt.wantStatus != 0) {
				t.Fatalf("error %v: *APIError %v; want %v", err, apiErr != nil, tt.wantStatus != 0)
			}
			if apiErr != nil && (apiErr.StatusCode != tt.wantStatus || apiErr.ErrorID() != tt.wantErrorID || apiErr.Temporary()) {
				t.Errorf("APIError: got %d/%d temporary=%v; want %d/%d permanent", apiErr.StatusCode, apiErr.ErrorID(), apiErr.Temporary(), tt.wantStatus, tt.wantErrorID)
			}
		})
	}
}
