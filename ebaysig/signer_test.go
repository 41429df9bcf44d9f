package ebaysig_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ebayauth/ebayauth/ebaysig"
	"github.com/ebayauth/ebayauth/ebaytest"
)

// vectorSigner is a Signer with eBay's published test key, at the vector's
// created time.
func vectorSigner(t *testing.T) *ebaysig.Signer {
	t.Helper()
	priv, err := ebaysig.ParsePrivateKey(vectorKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return &ebaysig.Signer{
		Key:   ebaysig.Key{ID: "vector", JWE: vectorJWE, PrivateKey: priv},
		Clock: ebaytest.NewClock(time.Unix(vectorCreated, 0)),
	}
}

func TestSignPublishedVector(t *testing.T) {
	s := vectorSigner(t)
	req, err := http.NewRequest(http.MethodPost, "http://localhost:8080/test", strings.NewReader(vectorBody))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Sign(req); err != nil {
		t.Fatal(err)
	}
	for _, h := range []struct{ name, want string }{
		{"Content-Digest", vectorDigest},
		{"x-ebay-signature-key", vectorJWE},
		{"Signature-Input", vectorInput},
		{"Signature", vectorSig},
	} {
		if got := req.Header.Values(h.name); len(got) != 1 || got[0] != h.want {
			t.Errorf("%s: got %q; want %q", h.name, got, h.want)
		}
	}
	if len(req.Header) != 4 {
		t.Errorf("headers: got %v; want only the four signature headers", req.Header)
	}
	der, _ := base64.StdEncoding.DecodeString(vectorPubB64)
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		t.Fatal(err)
	}
	if !verify(t, pub, req.Header, wantBase("POST", "/test", "localhost:8080", vectorJWE, vectorBody, vectorCreated)) {
		t.Error("the vector's signature does not verify over the documented base")
	}
}

// TestSignAgainstFake sends signed requests, with and without a body, with
// each cipher and with a key whose type is hidden, to the fake, which
// verifies them as eBay does.
func TestSignAgainstFake(t *testing.T) {
	f := newFixture(t)
	ed := f.signer(t, ebaytest.CipherEd25519)
	rs := f.signer(t, ebaytest.CipherRSA)
	opaque := func(s *ebaysig.Signer) *ebaysig.Signer {
		s2 := *s
		s2.Key.PrivateKey = opaqueSigner{s.Key.PrivateKey}
		return &s2
	}
	tests := []struct {
		name   string
		signer *ebaysig.Signer
		method string
		path   string
		body   string
		want   string // in the answer
	}{
		{"Ed25519 without body", ed, "GET", txnPath, "", `"transactionType":"SALE"`},
		{"Ed25519 with body", ed, "POST", refundPath, refundBody, `"refundStatus":"PENDING"`},
		{"Ed25519 with query", ed, "GET", txnPath + "?limit=5&filter=transactionType:%7BSALE%7D", "", `"limit":5`},
		{"RSA-2048 without body", rs, "GET", txnPath, "", `"transactionType":"SALE"`},
		{"RSA-2048 with body", rs, "POST", refundPath, refundBody, `"refundStatus":"PENDING"`},
		{"RSA-2048 with query", rs, "GET", txnPath + "?offset=0", "", `"offset":0`},
		{"opaque Ed25519 signer", opaque(ed), "POST", refundPath, refundBody, `"refundStatus":"PENDING"`},
		{"opaque RSA signer", opaque(rs), "POST", refundPath, refundBody, `"refundStatus":"PENDING"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := f.m.Transport(&ebaysig.Transport{Signer: tt.signer})
			verified := f.srv.VerifiedSignatures()
			status, body := send(t, &http.Client{Transport: client}, tt.method, f.srv.URL+tt.path, tt.body)
			if status != http.StatusOK || !strings.Contains(body, tt.want) {
				t.Fatalf("got %d %s; want 200 with %s\nthe fake's base:\n%s", status, body, tt.want, f.srv.LastSignatureBase())
			}
			if got := f.srv.VerifiedSignatures(); got != verified+1 {
				t.Errorf("VerifiedSignatures: got %d; want %d", got, verified+1)
			}
			reqs := f.srv.Requests()
			if got := string(reqs[len(reqs)-1].Body); got != tt.body {
				t.Errorf("body received: got %q; want %q", got, tt.body)
			}
		})
	}
}

func TestSignComponents(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	const created = 1900000000
	s := &ebaysig.Signer{Key: ebaysig.Key{JWE: "jwe", PrivateKey: priv}, Clock: ebaytest.NewClock(time.Unix(created, 0))}
	tests := []struct {
		name          string
		method, url   string
		host          string // req.Host; "": none
		body          string
		wantPath      string
		wantAuthority string
	}{
		{"query left out of @path", "GET", "https://apiz.ebay.com/sell/finances/v1/transaction?limit=5&offset=10", "", "", "/sell/finances/v1/transaction", "apiz.ebay.com"},
		{"default https port dropped", "GET", "https://apiz.ebay.com:443/sell/finances/v1/payout", "", "", "/sell/finances/v1/payout", "apiz.ebay.com"},
		{"default http port dropped", "GET", "http://example.com:80/x", "", "", "/x", "example.com"},
		{"other port kept", "POST", "http://localhost:8080/test", "", vectorBody, "/test", "localhost:8080"},
		{"https on port 80 kept", "GET", "https://example.com:80/x", "", "", "/x", "example.com:80"},
		{"host lower-cased", "GET", "https://APIZ.eBay.com/x", "", "", "/x", "apiz.ebay.com"},
		{"Host overrides the URL", "GET", "http://127.0.0.1:9999/x", "apiz.ebay.com", "", "/x", "apiz.ebay.com"},
		{"empty path is /", "GET", "https://apiz.ebay.com", "", "", "/", "apiz.ebay.com"},
		{"escaped path kept escaped", "GET", "https://apiz.ebay.com/a%2Fb/c%20d", "", "", "/a%2Fb/c%20d", "apiz.ebay.com"},
		{"DELETE with body", "DELETE", "https://api.ebay.com/x", "", `{"a":1}`, "/x", "api.ebay.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			req, err := http.NewRequest(tt.method, tt.url, body)
			if err != nil {
				t.Fatal(err)
			}
			req.Host = tt.host
			if err := s.Sign(req); err != nil {
				t.Fatal(err)
			}
			base := wantBase(tt.method, tt.wantPath, tt.wantAuthority, "jwe", tt.body, created)
			wantInput := "sig1=" + base[strings.Index(base, `"@signature-params": `)+len(`"@signature-params": `):]
			if got := req.Header.Get("Signature-Input"); got != wantInput {
				t.Errorf("Signature-Input: got %q; want %q", got, wantInput)
			}
			if !verify(t, priv.Public(), req.Header, base) {
				t.Errorf("signature does not verify over\n%s", base)
			}
			if got := req.Header.Get("Content-Digest") != ""; got != (tt.body != "") {
				t.Errorf("Content-Digest present: got %v; want %v", got, tt.body != "")
			}
		})
	}
}

func TestSignCreatedIsNow(t *testing.T) {
	f := newFixture(t)
	s := f.signer(t, ebaytest.CipherEd25519)
	for _, d := range []time.Duration{0, time.Hour, 400 * 24 * time.Hour} {
		f.clock.Advance(d)
		req, _ := http.NewRequest("GET", f.srv.URL+txnPath, nil)
		if err := s.Sign(req); err != nil {
			t.Fatal(err)
		}
		want := ";created=" + strconv.FormatInt(f.clock.Now().Unix(), 10)
		if got := req.Header.Get("Signature-Input"); !strings.HasSuffix(got, want) {
			t.Errorf("Signature-Input after %v: got %q; want it to end in %q", d, got, want)
		}
	}
	// The system clock when Clock is nil.
	s.Clock = nil
	req, _ := http.NewRequest("GET", f.srv.URL+txnPath, nil)
	before := time.Now().Unix()
	if err := s.Sign(req); err != nil {
		t.Fatal(err)
	}
	after := time.Now().Unix()
	_, c, _ := strings.Cut(req.Header.Get("Signature-Input"), ";created=")
	if n, err := strconv.ParseInt(c, 10, 64); err != nil || n < before || n > after {
		t.Errorf("created with the system clock: got %q; want between %d and %d", c, before, after)
	}
}

// TestSignBody checks that the body is still there to send after Sign,
// whatever kind of body it is.
func TestSignBody(t *testing.T) {
	s := vectorSigner(t)
	tests := []struct {
		name       string
		body       func() io.Reader
		wantDigest string
	}{
		{"strings.Reader (GetBody set)", func() io.Reader { return strings.NewReader(vectorBody) }, vectorDigest},
		{"bytes.Buffer (GetBody set)", func() io.Reader { return bytes.NewBufferString(vectorBody) }, vectorDigest},
		{"opaque reader (no GetBody)", func() io.Reader {
			return io.MultiReader(strings.NewReader(vectorBody[:5]), strings.NewReader(vectorBody[5:]))
		}, vectorDigest},
		{"opaque empty reader", func() io.Reader { return io.MultiReader() }, ""},
		{"empty strings.Reader", func() io.Reader { return strings.NewReader("") }, ""},
		{"nil", func() io.Reader { return nil }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest("POST", "http://localhost:8080/test", tt.body())
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Digest", "sha-256=:stale:")
			if err := s.Sign(req); err != nil {
				t.Fatal(err)
			}
			if got := req.Header.Get("Content-Digest"); got != tt.wantDigest {
				t.Errorf("Content-Digest: got %q; want %q", got, tt.wantDigest)
			}
			want := vectorBody
			if tt.wantDigest == "" {
				want = ""
				if strings.Contains(req.Header.Get("Signature-Input"), "content-digest") {
					t.Errorf("Signature-Input %q covers content-digest without a body", req.Header.Get("Signature-Input"))
				}
			}
			if req.Body != nil {
				b, err := io.ReadAll(req.Body)
				if err != nil || string(b) != want {
					t.Errorf("Body after Sign: got %q, %v; want %q", b, err, want)
				}
			} else if want != "" {
				t.Errorf("Body after Sign is nil; want %q", want)
			}
			if want != "" {
				if req.GetBody == nil {
					t.Fatal("GetBody is nil after Sign")
				}
				for range 2 {
					rc, err := req.GetBody()
					if err != nil {
						t.Fatal(err)
					}
					b, _ := io.ReadAll(rc)
					if string(b) != want {
						t.Errorf("GetBody: got %q; want %q", b, want)
					}
				}
				if req.ContentLength != int64(len(want)) {
					t.Errorf("ContentLength: got %d; want %d", req.ContentLength, len(want))
				}
			}
		})
	}
}

func TestSignErrors(t *testing.T) {
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	readErr := errors.New("disk on fire")
	tests := []struct {
		name    string
		signer  *ebaysig.Signer
		body    io.Reader
		wantErr error
	}{
		{"nil Signer", nil, nil, ebaysig.ErrNoKey},
		{"no private key", &ebaysig.Signer{Key: ebaysig.Key{JWE: "jwe"}}, nil, ebaysig.ErrNoKey},
		{"no JWE", &ebaysig.Signer{Key: ebaysig.Key{PrivateKey: ed}}, nil, ebaysig.ErrNoKey},
		{"ECDSA key", &ebaysig.Signer{Key: ebaysig.Key{JWE: "jwe", PrivateKey: ec}}, nil, ebaysig.ErrUnsupportedKey},
		{"body fails", &ebaysig.Signer{Key: ebaysig.Key{JWE: "jwe", PrivateKey: ed}}, io.MultiReader(failingReader{readErr}), readErr},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", "https://apiz.ebay.com/sell/finances/v1/transaction", tt.body)
			err := tt.signer.Sign(req)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("got %v; want %v", err, tt.wantErr)
			}
			if !strings.HasPrefix(err.Error(), "ebaysig: ") {
				t.Errorf("error %q; want the prefix ebaysig:", err)
			}
			if req.Header.Get("Signature") != "" {
				t.Errorf("Signature set despite the error: %q", req.Header.Get("Signature"))
			}
		})
	}
}

type failingReader struct{ err error }

func (r failingReader) Read([]byte) (int, error) { return 0, r.err }
