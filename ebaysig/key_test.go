package ebaysig_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ebayauth/ebayauth/ebaysig"
)

// testRSAKey is one RSA-2048 key for the tests that need a key but no
// fake: generating one is slow under the race detector.
var testRSAKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func pkcs8(t *testing.T, k any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestParsePrivateKey(t *testing.T) {
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	rk := testRSAKey()
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	b64 := func(der []byte) string { return base64.StdEncoding.EncodeToString(der) }
	pemOf := func(typ string, der []byte) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
	}
	wrapped := b64(pkcs8(t, rk))
	var lines []string
	for len(wrapped) > 64 {
		lines, wrapped = append(lines, wrapped[:64]), wrapped[64:]
	}
	lines = append(lines, wrapped)

	tests := []struct {
		name    string
		in      string
		want    crypto.Signer
		wantErr error // nil: any error when want is nil
	}{
		{"eBay's vector, PEM PKCS#8", vectorKeyPEM, nil, nil},
		{"Ed25519 base64 PKCS#8, as createSigningKey returns it", b64(pkcs8(t, ed)), ed, nil},
		{"Ed25519 PEM with surrounding space", "\n  " + pemOf("PRIVATE KEY", pkcs8(t, ed)) + "\n", ed, nil},
		{"RSA base64 PKCS#8", b64(pkcs8(t, rk)), rk, nil},
		{"RSA base64 PKCS#8 in lines", strings.Join(lines, "\n"), rk, nil},
		{"RSA PEM PKCS#1", pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rk)), rk, nil},
		{"RSA base64 PKCS#1", b64(x509.MarshalPKCS1PrivateKey(rk)), rk, nil},
		{"ECDSA", b64(pkcs8(t, ec)), nil, ebaysig.ErrUnsupportedKey},
		{"encrypted PEM", pemOf("ENCRYPTED PRIVATE KEY", []byte("secret-ish")), nil, nil},
		{"public key PEM", pemOf("PUBLIC KEY", []byte("x")), nil, nil},
		{"truncated PEM", "-----BEGIN PRIVATE KEY-----\nMC4CAQAw", nil, nil},
		{"not base64", "this is not a key!", nil, nil},
		{"base64 of junk", b64([]byte("junk that is no key at all")), nil, nil},
		{"empty", "  ", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ebaysig.ParsePrivateKey(tt.in)
			if tt.name == "eBay's vector, PEM PKCS#8" {
				if err != nil {
					t.Fatal(err)
				}
				pub := base64.StdEncoding.EncodeToString(mustPKIX(t, got.Public()))
				if pub != vectorPubB64 {
					t.Errorf("public key: got %q; want %q", pub, vectorPubB64)
				}
				return
			}
			if tt.want != nil {
				if err != nil {
					t.Fatal(err)
				}
				if eq, ok := got.(interface{ Equal(crypto.PrivateKey) bool }); !ok || !eq.Equal(tt.want) {
					t.Errorf("got a different %T", got)
				}
				return
			}
			if err == nil {
				t.Fatalf("got a %T; want an error", got)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error: got %v; want %v", err, tt.wantErr)
			}
			if !strings.HasPrefix(err.Error(), "ebaysig: ParsePrivateKey: ") {
				t.Errorf("error %q; want the prefix ebaysig: ParsePrivateKey:", err)
			}
			if in := strings.TrimSpace(tt.in); len(in) > 8 && strings.Contains(err.Error(), in[len(in)-8:]) {
				t.Errorf("error %q quotes the input", err)
			}
		})
	}
}

func mustPKIX(t *testing.T, pub crypto.PublicKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestMarshalPrivateKey(t *testing.T) {
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	for _, k := range []crypto.Signer{ed, testRSAKey()} {
		s, err := ebaysig.MarshalPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ebaysig.ParsePrivateKey(s)
		if err != nil {
			t.Fatal(err)
		}
		if !back.(interface{ Equal(crypto.PrivateKey) bool }).Equal(k) {
			t.Errorf("%T: round trip changed the key", k)
		}
	}
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for _, k := range []crypto.Signer{ec, opaqueSigner{ed}, nil} {
		if _, err := ebaysig.MarshalPrivateKey(k); !errors.Is(err, ebaysig.ErrUnsupportedKey) {
			t.Errorf("MarshalPrivateKey(%T): got %v; want ErrUnsupportedKey", k, err)
		}
	}
}

// secretForms are the ways a private key's bytes could show up in text.
func secretForms(t *testing.T, k crypto.Signer) []string {
	t.Helper()
	der := pkcs8(t, k)
	forms := []string{base64.StdEncoding.EncodeToString(der), hex.EncodeToString(der)}
	switch k := k.(type) {
	case ed25519.PrivateKey:
		seed := k.Seed()
		forms = append(forms,
			hex.EncodeToString(seed), base64.StdEncoding.EncodeToString(seed), base64.StdEncoding.EncodeToString(k),
			strings.Trim(fmt.Sprint([]byte(seed)), "[]")[:20], // decimal bytes, as %v prints a []byte
			fmt.Sprintf("%x", seed[:8]), fmt.Sprintf("%X", seed[:8]))
	case *rsa.PrivateKey:
		forms = append(forms, k.D.String()[:40], k.D.Text(16)[:40], k.Primes[0].String()[:40], k.Primes[0].Text(16)[:40])
	}
	return forms
}

func TestKeyRedacted(t *testing.T) {
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	for _, priv := range []crypto.Signer{ed, testRSAKey()} {
		t.Run(fmt.Sprintf("%T", priv), func(t *testing.T) {
			key := ebaysig.Key{ID: "a1b2", JWE: vectorJWE, PrivateKey: priv, Expiry: time.Date(2029, 1, 2, 3, 4, 5, 0, time.UTC)}
			signer := ebaysig.Signer{Key: key}
			tr := &ebaysig.Transport{Signer: &signer}
			var outputs []string
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
				for _, v := range []any{key, &key, signer, &signer, *tr, []ebaysig.Key{key}, map[string]*ebaysig.Key{"k": &key}, struct{ K ebaysig.Key }{key},
					struct {
						S *ebaysig.Signer
						F func()
					}{&signer, nil}, []*ebaysig.Signer{&signer}} {
					outputs = append(outputs, verb+": "+fmt.Sprintf(verb, v))
				}
			}
			outputs = append(outputs, key.String(), key.GoString(), fmt.Sprint(key), fmt.Sprintln(&key))
			var logs bytes.Buffer
			for _, h := range []slog.Handler{slog.NewJSONHandler(&logs, nil), slog.NewTextHandler(&logs, nil)} {
				l := slog.New(h)
				l.Info("key", "key", key, "ptr", &key)
				l.Info("signer", slog.Any("signer", signer))
			}
			outputs = append(outputs, logs.String())
			j, err := json.Marshal(map[string]any{"key": key, "ptr": &key})
			if err != nil {
				t.Fatal(err)
			}
			outputs = append(outputs, string(j))

			for _, out := range outputs {
				for _, secret := range secretForms(t, priv) {
					if strings.Contains(out, secret) {
						t.Errorf("output reveals the private key (%q):\n%s", secret, out)
					}
				}
			}
			if want := `ebaysig.Key{id="a1b2" cipher=`; !strings.Contains(fmt.Sprintf("%#v", key), want) {
				t.Errorf("%%#v: got %q; want it to contain %q", fmt.Sprintf("%#v", key), want)
			}
			if !strings.Contains(logs.String(), `"id":"a1b2"`) || !strings.Contains(logs.String(), "key.expiry=2029-01-02T03:04:05.000Z") {
				t.Errorf("slog: got %s; want id and expiry", logs.String())
			}
			if !strings.Contains(string(j), `"signingKeyId":"a1b2"`) || strings.Contains(string(j), "rivate") {
				t.Errorf("JSON: got %s; want the id and no private key", j)
			}
		})
	}
}
