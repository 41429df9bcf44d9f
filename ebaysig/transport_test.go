package ebaysig_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ebayauth/ebayauth/ebaysig"
	"github.com/ebayauth/ebayauth/ebaytest"
)

func TestRequiresSignature(t *testing.T) {
	tests := []struct {
		method, path string
		callName     string // X-EBAY-API-CALL-NAME
		want         bool
	}{
		{"GET", "/sell/finances/v1/transaction", "", true},
		{"GET", "/sell/finances/v1/payout/5000012345", "", true},
		{"GET", "/sell/finances/v1/seller_funds_summary", "", true},
		{"POST", "/sell/finances/v1/transfer", "", true},
		{"GET", "/sell/finances/v2/transaction", "", false},
		{"POST", "/sell/fulfillment/v1/order/12-34567-89012/issue_refund", "", true},
		{"POST", "/sell/fulfillment/v1/order/12-34567-89012/issue_refund/", "", true},
		{"GET", "/sell/fulfillment/v1/order/12-34567-89012/issue_refund", "", false},
		{"POST", "/sell/fulfillment/v1/order//issue_refund", "", false},
		{"GET", "/sell/fulfillment/v1/order/12-34567-89012", "", false},
		{"POST", "/sell/fulfillment/v1/order/12-34567-89012/shipping_fulfillment", "", false},
		{"POST", "/ws/api.dll", "GetAccount", true},
		{"POST", "/ws/api.dll", "getaccount", true},
		{"POST", "/ws/api.dll", "GetMyeBaySelling", false},
		{"POST", "/ws/api.dll", "", false},
		{"POST", "/post-order/v2/inquiry/5123456789/issue_refund", "", true},
		{"POST", "/post-order/v2/casemanagement/5123456789/issue_refund", "", true},
		{"POST", "/post-order/v2/return/5000123456/issue_refund", "", true},
		{"POST", "/post-order/v2/return/5000123456/decide", "", true},
		{"POST", "/post-order/v2/cancellation/5000123456/approve", "", true},
		{"POST", "/post-order/v2/cancellation", "", true},
		{"POST", "/post-order/v2/cancellation/", "", true},
		{"POST", "/post-order/v2/cancellation/5000123456/reject", "", false},
		{"POST", "/post-order/v2/cancellation/check_eligibility", "", false},
		{"POST", "/post-order/v2/return/5000123456/mark_as_received", "", false},
		{"POST", "/post-order/v2/inquiry/5123456789/escalate", "", false},
		{"GET", "/post-order/v2/return/5000123456/decide", "", false},
		{"POST", "/post-order/v2/return", "", false},
		{"GET", "/buy/browse/v1/item_summary/search", "", false},
		{"POST", "/sell/inventory/v1/offer", "", false},
		{"GET", "/", "", false},
	}
	for _, tt := range tests {
		req, err := http.NewRequest(tt.method, "https://api.ebay.com"+tt.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if tt.callName != "" {
			req.Header.Set("X-EBAY-API-CALL-NAME", tt.callName)
		}
		if got := ebaysig.RequiresSignature(req); got != tt.want {
			t.Errorf("RequiresSignature(%s %s %s): got %v; want %v", tt.method, tt.path, tt.callName, got, tt.want)
		}
	}
}

// TestTransportSignsOnlyMatches checks which requests the Transport signs,
// by default and with a Match of one's own.
func TestTransportSignsOnlyMatches(t *testing.T) {
	f := newFixture(t)
	s := f.signer(t, ebaytest.CipherEd25519)
	all := func(*http.Request) bool { return true }
	tests := []struct {
		name       string
		match      func(*http.Request) bool
		method     string
		path, body string
		wantSigned bool
	}{
		{"default: Finances", nil, "GET", txnPath, "", true},
		{"default: issueRefund", nil, "POST", refundPath, refundBody, true},
		{"default: Browse", nil, "GET", "/buy/browse/v1/item_summary/search?q=x", "", false},
		{"default: createOffer", nil, "POST", "/sell/inventory/v1/offer", `{"sku":"1"}`, false},
		{"everything: Browse", all, "GET", "/buy/browse/v1/item_summary/search?q=x", "", true},
		{"everything: createOffer", all, "POST", "/sell/inventory/v1/offer", `{"sku":"1"}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp := &spy{}
			client := &http.Client{Transport: f.m.Transport(&ebaysig.Transport{Signer: s, Base: sp, Match: tt.match})}
			status, body := send(t, client, tt.method, f.srv.URL+tt.path, tt.body)
			if status/100 != 2 {
				t.Fatalf("got %d %s; want 2xx", status, body)
			}
			h := sp.seen()[0]
			if got := h.Get("Signature") != ""; got != tt.wantSigned {
				t.Errorf("signed: got %v; want %v (headers %v)", got, tt.wantSigned, h)
			}
			if tt.wantSigned && (tt.body != "") != (h.Get("Content-Digest") != "") {
				t.Errorf("Content-Digest: got %q with body %q", h.Get("Content-Digest"), tt.body)
			}
		})
	}
}

// TestTransportComposition sends a refund through ebayauth's Transport and
// the signing Transport, stacked either way, with the user token revoked,
// so that ebayauth answers the 401 by refreshing and replaying the request.
func TestTransportComposition(t *testing.T) {
	tests := []struct {
		name  string
		stack func(f *fixture, s *ebaysig.Signer, sp *spy) http.RoundTripper
		// fresh: the replay is signed anew, with a later created; else it
		// carries the first signature again.
		fresh bool
	}{
		{"signing below ebayauth", func(f *fixture, s *ebaysig.Signer, sp *spy) http.RoundTripper {
			return f.m.Transport(&ebaysig.Transport{Signer: s, Base: sp})
		}, true},
		{"signing above ebayauth", func(f *fixture, s *ebaysig.Signer, sp *spy) http.RoundTripper {
			return &ebaysig.Transport{Signer: s, Base: f.m.Transport(sp)}
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			s := f.signer(t, ebaytest.CipherEd25519)
			sc := ebaytest.NewClock(f.clock.Now())
			s.Clock = tickClock{sc}
			sp := &spy{}
			client := &http.Client{Transport: tt.stack(f, s, sp)}

			if status, body := send(t, client, "GET", f.srv.URL+txnPath, ""); status != http.StatusOK {
				t.Fatalf("first call: got %d %s; want 200", status, body)
			}
			// eBay revokes a token in use, not one minted this instant
			// (ebayauth does not replace a brand-new token on a 401).
			f.clock.Advance(10 * time.Minute)
			sc.Advance(10 * time.Minute)
			f.srv.RevokeAll()
			status, body := send(t, client, "POST", f.srv.URL+refundPath, refundBody)
			if status != http.StatusOK || !strings.Contains(body, "PENDING") {
				t.Fatalf("refund after revocation: got %d %s; want 200 after a replay", status, body)
			}

			seen := sp.seen()
			if len(seen) != 3 {
				t.Fatalf("requests sent: got %d; want 3 (a call, the refund, its replay)", len(seen))
			}
			rejected, replay := seen[1], seen[2]
			if rejected.Get("Authorization") == replay.Get("Authorization") {
				t.Error("the replay used the revoked token")
			}
			for _, h := range []string{"Content-Digest", "X-Ebay-Signature-Key"} {
				if got, want := replay.Get(h), rejected.Get(h); got != want || got == "" {
					t.Errorf("%s of the replay: got %q; want %q", h, got, want)
				}
			}
			in1, in2 := rejected.Get("Signature-Input"), replay.Get("Signature-Input")
			if tt.fresh == (in1 == in2) {
				t.Errorf("Signature-Input of the refund %q and of its replay %q; want them to differ: %v", in1, in2, tt.fresh)
			}
			if tt.fresh && rejected.Get("Signature") == replay.Get("Signature") {
				t.Error("the replay carries the first Signature")
			}
			if got := f.srv.VerifiedSignatures(); got != 2 {
				t.Errorf("VerifiedSignatures: got %d; want 2 (the 401 is answered before the signature is checked)", got)
			}
			reqs := f.srv.Requests()
			if got := string(reqs[len(reqs)-1].Body); got != refundBody {
				t.Errorf("body of the replay: got %q; want %q", got, refundBody)
			}
		})
	}
}

func TestTransportDoesNotModifyRequest(t *testing.T) {
	f := newFixture(t)
	s := f.signer(t, ebaytest.CipherEd25519)
	client := &http.Client{Transport: f.m.Transport(&ebaysig.Transport{Signer: s})}
	req, err := http.NewRequest("POST", f.srv.URL+refundPath+"?x=1", strings.NewReader(refundBody))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	getBody := req.GetBody
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status: got %d; want 200", resp.StatusCode)
	}
	if len(req.Header) != 1 || req.Header.Get("Content-Type") != "application/json" {
		t.Errorf("caller's headers: got %v; want only Content-Type", req.Header)
	}
	if got := req.URL.String(); got != f.srv.URL+refundPath+"?x=1" {
		t.Errorf("caller's URL: got %q; want %q", got, f.srv.URL+refundPath+"?x=1")
	}
	if req.ContentLength != int64(len(refundBody)) {
		t.Errorf("caller's ContentLength: got %d; want %d", req.ContentLength, len(refundBody))
	}
	rc, _ := getBody()
	if b, _ := io.ReadAll(rc); string(b) != refundBody {
		t.Errorf("caller's GetBody: got %q; want %q", b, refundBody)
	}
	if f.srv.VerifiedSignatures() != 1 {
		t.Errorf("VerifiedSignatures: got %d; want 1", f.srv.VerifiedSignatures())
	}
}

// TestTransportClosesBody checks that the body is closed exactly once
// whether signing fails or the request goes out.
func TestTransportClosesBody(t *testing.T) {
	f := newFixture(t)
	good := f.signer(t, ebaytest.CipherEd25519)
	tests := []struct {
		name    string
		signer  *ebaysig.Signer
		body    io.Reader
		wantErr string
	}{
		{"no Signer", nil, strings.NewReader(refundBody), "ebaysig: Transport.Signer is nil"},
		{"Signer without key", &ebaysig.Signer{}, strings.NewReader(refundBody), "ebaysig: signer has no key"},
		{"body fails", good, failingReader{errors.New("disk on fire")}, "ebaysig: reading the request body: disk on fire"},
		{"sent", good, strings.NewReader(refundBody), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := &closeCounter{Reader: tt.body}
			req, err := http.NewRequest("POST", f.srv.URL+refundPath, body)
			if err != nil {
				t.Fatal(err)
			}
			// The user token is not needed to see the signing: go straight to the fake.
			tr := &ebaysig.Transport{Signer: tt.signer, Base: f.srv.Client().Transport}
			resp, err := tr.RoundTrip(req)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			} else if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("error: got %v; want %q", err, tt.wantErr)
			}
			if n := body.count(); n < 1 {
				t.Errorf("body closed %d times; want at least once", n)
			}
		})
	}
}

// TestTransportSignsEachAttempt checks that the signing Transport signs the
// same request anew every time it is sent: created follows the clock.
func TestTransportSignsEachAttempt(t *testing.T) {
	f := newFixture(t)
	s := f.signer(t, ebaytest.CipherEd25519)
	sp := &spy{}
	client := &http.Client{Transport: f.m.Transport(&ebaysig.Transport{Signer: s, Base: sp})}
	for range 2 {
		if status, body := send(t, client, "GET", f.srv.URL+txnPath, ""); status != http.StatusOK {
			t.Fatalf("got %d %s; want 200", status, body)
		}
		f.clock.Advance(10 * time.Minute) // past the window of the first signature
	}
	seen := sp.seen()
	if seen[0].Get("Signature-Input") == seen[1].Get("Signature-Input") {
		t.Errorf("both requests carry Signature-Input %q", seen[0].Get("Signature-Input"))
	}
}

// TestFakeRejects sends what eBay refuses through the real stack and checks
// the errorId the fake answers, with the package's constants.
func TestFakeRejects(t *testing.T) {
	f := newFixture(t)
	good := f.signer(t, ebaytest.CipherEd25519)
	// The trap: created frozen at the key's creation, an hour ago.
	frozen := *good
	frozen.Clock = ebaytest.NewClock(f.clock.Now())
	f.clock.Advance(time.Hour)
	// A key the fake did not issue.
	other := ebaytest.NewServer()
	t.Cleanup(other.Close)
	id, jwe, priv := other.IssueSigningKey(ebaytest.CipherEd25519)
	stranger := &ebaysig.Signer{Key: ebaysig.Key{ID: id, JWE: jwe, PrivateKey: priv}, Clock: f.clock}
	// A JWE from the fake with another private key.
	mixed := *good
	mixed.Key.PrivateKey = priv

	tests := []struct {
		name   string
		signer *ebaysig.Signer // nil: no signing Transport
		want   int
	}{
		{"unsigned", nil, ebaysig.ErrorMissingKey},
		{"created is the key's creation time", &frozen, ebaysig.ErrorCreatedOutOfRange},
		{"key from elsewhere", stranger, ebaysig.ErrorValidationFailed},
		{"JWE and private key do not match", &mixed, ebaysig.ErrorValidationFailed},
		{"good", good, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var base http.RoundTripper
			if tt.signer != nil {
				base = &ebaysig.Transport{Signer: tt.signer}
			}
			client := &http.Client{Transport: f.m.Transport(base)}
			status, body := send(t, client, "POST", f.srv.URL+refundPath, refundBody)
			wantStatus := http.StatusForbidden
			if tt.want == 0 {
				wantStatus = http.StatusOK
			}
			if status != wantStatus || errorID(body) != tt.want {
				t.Errorf("got %d %s; want %d with errorId %d", status, body, wantStatus, tt.want)
			}
		})
	}
}
