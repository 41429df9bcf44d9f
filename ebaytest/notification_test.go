package ebaytest_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/ebaytest"
)

// eBay's published notification test vector (shared/ebay-protocol.md).
const (
	vectorKID  = "9936261a-7d7b-4621-a0f1-96ccb428af49"
	vectorKey  = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEZhhxXKtR+TOvtDbgTPCkSof02qgBB7IsYOyf76ilExJ/upAa/vKIKheOoCyOpcLmi4t0b4uepb7LLjmMr90FUg=="
	vectorSig  = "eyJhbGciOiJlY2RzYSIsImtpZCI6Ijk5MzYyNjFhLTdkN2ItNDYyMS1hMGYxLTk2Y2NiNDI4YWY0OSIsInNpZ25hdHVyZSI6Ik1FWUNJUUNmeGZJV3V4bVdjSUJRSjljNS9YN2lHREpxczJSQ0dzQkVhQWppbnlycmZBSWhBSVY2d0djVGlCdVY1S0pVaWYyaG9reXJMK1E5c3NIa2FkK214Mm5FRTI1dyIsImRpZ2VzdCI6IlNIQTEifQ=="
	vectorBody = `{"metadata":{"topic":"MARKETPLACE_ACCOUNT_DELETION","schemaVersion":"1.0","deprecated":false},"notification":{"notificationId":"49feeaeb-4982-42d9-a377-9645b8479411_33f7e043-fed8-442b-9d44-791923bd9a6d","eventDate":"2021-03-19T20:43:59.462Z","publishDate":"2021-03-19T20:43:59.679Z","publishAttemptCount":1,"data":{"username":"test_user","userId":"ma8vp1jySJC","eiasToken":"nY+sHZ2PrBmdj6wVnY+sEZ2PrA2dj6wJnY+gAZGEpwmdj6x9nY+seQ=="}}}`
)

func keyPath(kid string) string { return "/commerce/notification/v1/public_key/" + kid }

// publicKey fetches kid from srv's getPublicKey with an application token
// and parses it.
func publicKey(t *testing.T, srv *ebaytest.Server, kid string) *ecdsa.PublicKey {
	t.Helper()
	status, body := call(t, srv, http.MethodGet, keyPath(kid), "Bearer "+appToken(t, srv, ebayauth.ScopeAPI), "")
	if status != http.StatusOK {
		t.Fatalf("getPublicKey: got %d %q; want 200", status, body)
	}
	var resp struct{ Key, Algorithm, Digest string }
	if err := json.Unmarshal([]byte(body), &resp); err != nil {
		t.Fatal(err)
	}
	if resp.Algorithm != "ECDSA" || resp.Digest != "SHA1" {
		t.Errorf("algorithm, digest: got %q, %q; want ECDSA, SHA1", resp.Algorithm, resp.Digest)
	}
	b64, ok := strings.CutPrefix(resp.Key, "-----BEGIN PUBLIC KEY-----")
	b64, ok2 := strings.CutSuffix(b64, "-----END PUBLIC KEY-----")
	if !ok || !ok2 {
		t.Fatalf("key %q is not armoured as eBay does", resp.Key)
	}
	der, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		t.Fatal(err)
	}
	ek, ok := k.(*ecdsa.PublicKey)
	if !ok || ek.Curve != elliptic.P256() {
		t.Fatalf("key is %T; want an ECDSA P-256 key", k)
	}
	return ek
}

// verify checks an X-EBAY-SIGNATURE header over body with key and returns
// the header's kid.
func verify(t *testing.T, key *ecdsa.PublicKey, header string, body []byte) (kid string, ok bool) {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(header)
	if err != nil {
		t.Fatal(err)
	}
	var h struct{ Alg, Kid, Signature, Digest string }
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	if h.Alg != "ecdsa" || h.Digest != "SHA1" {
		t.Errorf("alg, digest: got %q, %q; want ecdsa, SHA1", h.Alg, h.Digest)
	}
	sig, err := base64.StdEncoding.DecodeString(h.Signature)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum(body)
	return h.Kid, ecdsa.VerifyASN1(key, sum[:], sig)
}

func TestPublicKey(t *testing.T) {
	tests := []struct {
		name       string
		kid        func(*ebaytest.Server) string
		auth       func(*testing.T, *ebaytest.Server) string
		wantStatus int
		want       string // exact body, if not ""
	}{
		{"application token", (*ebaytest.Server).NotificationKeyID, func(t *testing.T, srv *ebaytest.Server) string {
			return "Bearer " + appToken(t, srv, ebayauth.ScopeAPI)
		}, 200, ""},
		{"published vector's key", func(srv *ebaytest.Server) string { return vectorKID }, func(t *testing.T, srv *ebaytest.Server) string {
			return "Bearer " + appToken(t, srv, ebayauth.ScopeAPI)
		}, 200, `{"key":"-----BEGIN PUBLIC KEY-----` + vectorKey + `-----END PUBLIC KEY-----","algorithm":"ECDSA","digest":"SHA1"}`},
		{"unknown kid", func(*ebaytest.Server) string { return "00000000-0000-4000-8000-000000000000" }, func(t *testing.T, srv *ebaytest.Server) string {
			return "Bearer " + appToken(t, srv, ebayauth.ScopeAPI)
		}, 404, `{"errors":[{"errorId":195001,"domain":"API_NOTIFICATION","category":"REQUEST","message":"The specified public key was not found.","longMessage":"The specified public key ID was not found. Check the key ID in the X-EBAY-SIGNATURE header."}]}`},
		{"user token", (*ebaytest.Server).NotificationKeyID, func(t *testing.T, srv *ebaytest.Server) string {
			return "Bearer " + userToken(t, srv, ebayauth.ScopeAPI)
		}, 403, err1100},
		{"application token without api_scope", (*ebaytest.Server).NotificationKeyID, func(t *testing.T, srv *ebaytest.Server) string {
			return "Bearer " + appToken(t, srv, scopeInventory)
		}, 403, err1100},
		{"unknown token", (*ebaytest.Server).NotificationKeyID, func(*testing.T, *ebaytest.Server) string {
			return "Bearer v^1.1#i^1#p^1#r^0#I^3#f^0#t^bm9wZQ=="
		}, 401, err1001},
		{"no token", (*ebaytest.Server).NotificationKeyID, func(*testing.T, *ebaytest.Server) string { return "" }, 400, err1002},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			srv.SetNotificationKey(vectorKID, vectorKey)
			status, got := call(t, srv, http.MethodGet, keyPath(tt.kid(srv)), tt.auth(t, srv), "")
			if status != tt.wantStatus || (tt.want != "" && got != tt.want) {
				t.Errorf("got %d %q; want %d %q", status, got, tt.wantStatus, tt.want)
			}
			if n := srv.PublicKeyRequests(); n != 1 {
				t.Errorf("PublicKeyRequests: got %d; want 1", n)
			}
		})
	}
}

func TestPublicKeyVerifiesVector(t *testing.T) {
	srv := newServer(t)
	srv.SetNotificationKey(vectorKID, vectorKey)
	key := publicKey(t, srv, vectorKID)
	tests := []struct {
		name string
		body string
		want bool
	}{
		{"published body", vectorBody, true},
		{"other user name", strings.Replace(vectorBody, "test_user", "test_usex", 1), false},
		{"reformatted", strings.Replace(vectorBody, `{"metadata":`, `{ "metadata":`, 1), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kid, ok := verify(t, key, vectorSig, []byte(tt.body))
			if kid != vectorKID || ok != tt.want {
				t.Errorf("got kid %q, verified %v; want %q, %v", kid, ok, vectorKID, tt.want)
			}
		})
	}
}

func TestSetNotificationKeyPanics(t *testing.T) {
	srv := newServer(t)
	for _, spki := range []string{"not base64!", base64.StdEncoding.EncodeToString([]byte("not DER")),
		"MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=" /* Ed25519 */} {
		t.Run(spki, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("SetNotificationKey did not panic")
				}
			}()
			srv.SetNotificationKey("k", spki)
		})
	}
}

func TestFailPublicKey(t *testing.T) {
	srv := newServer(t)
	auth := "Bearer " + appToken(t, srv, ebayauth.ScopeAPI)
	path := keyPath(srv.NotificationKeyID())
	srv.FailPublicKey(2, http.StatusServiceUnavailable)
	for i, want := range []int{503, 503, 200} {
		if status, body := call(t, srv, http.MethodGet, path, auth, ""); status != want {
			t.Errorf("request %d: got %d %q; want %d", i, status, body, want)
		}
	}
	srv.FailPublicKey(-1, http.StatusInternalServerError)
	for i := range 3 {
		if status, body := call(t, srv, http.MethodGet, path, auth, ""); status != 500 || !strings.Contains(body, `"errorId":195000`) {
			t.Errorf("request %d after FailPublicKey(-1): got %d %q; want 500 with errorId 195000", i, status, body)
		}
	}
	srv.FailPublicKey(0, 0)
	if status, _ := call(t, srv, http.MethodGet, path, auth, ""); status != 200 {
		t.Errorf("after FailPublicKey(0, 0): got %d; want 200", status)
	}
	if n := srv.PublicKeyRequests(); n != 7 {
		t.Errorf("PublicKeyRequests: got %d; want 7", n)
	}
}

func TestDeletionNotice(t *testing.T) {
	srv := newServer(t)
	clock := newClock(srv) // 2037-03-01T12:00:00Z
	addSellers(srv)
	srv.RenameUser(gbSeller.ID, `a&b<c>"d`) // nothing escaped but what JSON must
	body, sig, err := srv.DeletionNotice(gbSeller.ID)
	if err != nil {
		t.Fatal(err)
	}
	var n struct {
		Notification struct {
			NotificationID string
			Data           struct{ EIASToken string }
		}
	}
	if err := json.Unmarshal(body, &n); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf(`{"metadata":{"topic":"MARKETPLACE_ACCOUNT_DELETION","schemaVersion":"1.0","deprecated":false},`+
		`"notification":{"notificationId":%q,"eventDate":"2037-03-01T12:00:00.000Z","publishDate":"2037-03-01T12:00:00.000Z",`+
		`"publishAttemptCount":1,"data":{"username":"a&b<c>\"d","userId":%q,"eiasToken":%q}}}`,
		n.Notification.NotificationID, gbSeller.ID, n.Notification.Data.EIASToken)
	if string(body) != want {
		t.Errorf("body:\ngot  %s\nwant %s", body, want)
	}
	if id := n.Notification.NotificationID; len(id) != 73 || id[36] != '_' {
		t.Errorf("notificationId %q is not two UUIDs joined by _", id)
	}
	if eias, err := base64.StdEncoding.DecodeString(n.Notification.Data.EIASToken); err != nil || len(eias) == 0 {
		t.Errorf("eiasToken %q is not base64", n.Notification.Data.EIASToken)
	}
	key := publicKey(t, srv, srv.NotificationKeyID())
	if kid, ok := verify(t, key, sig, body); !ok || kid != srv.NotificationKeyID() {
		t.Errorf("signature: kid %q, verified %v; want %q, true", kid, ok, srv.NotificationKeyID())
	}
	if _, ok := verify(t, key, srv.SignNotification(body), append(body, ' ')); ok {
		t.Error("signature verified over other bytes")
	}

	// The same seller's next notice has a new id, the same eiasToken and
	// the Server's time.
	clock.Advance(1500 * time.Millisecond)
	body2, _, err := srv.DeletionNotice(gbSeller.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body2), `"eventDate":"2037-03-01T12:00:01.500Z"`) ||
		!strings.Contains(string(body2), n.Notification.Data.EIASToken) ||
		strings.Contains(string(body2), n.Notification.NotificationID) {
		t.Errorf("second notice: %s", body2)
	}

	if _, _, err := srv.DeletionNotice("nobody"); err == nil {
		t.Error("DeletionNotice for an unknown user: got nil error")
	}
}

// received is what an endpoint saw of one request.
type received struct {
	method, query, contentType, signature string
	body                                  []byte
}

// endpoint starts a loopback endpoint that records requests on a channel
// and answers with answer.
func endpoint(t *testing.T, answer http.HandlerFunc) (string, <-chan received) {
	t.Helper()
	ch := make(chan received, 10)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("endpoint: %v", err)
		}
		ch <- received{r.Method, r.URL.RawQuery, r.Header.Get("Content-Type"), r.Header.Get("X-EBAY-SIGNATURE"), b}
		answer(w, r)
	}))
	t.Cleanup(ts.Close)
	return ts.URL + "/ebay/deletion", ch
}

func TestSendDeletionNotice(t *testing.T) {
	tests := []struct {
		name       string
		user       string
		answer     int
		endpoint   string // "" for the test's loopback endpoint
		wantStatus int
		wantErr    bool
	}{
		{"acknowledged", deSeller.ID, http.StatusNoContent, "", 204, false},
		{"refused", deSeller.ID, http.StatusPreconditionFailed, "", 412, false},
		{"unknown user", "nobody", 204, "", 0, true},
		{"not loopback", deSeller.ID, 204, "https://example.com/ebay/deletion", 0, true},
		{"not http", deSeller.ID, 204, "ftp://127.0.0.1/x", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			addSellers(srv)
			url, got := endpoint(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(tt.answer) })
			if tt.endpoint != "" {
				url = tt.endpoint
			}
			status, err := srv.SendDeletionNotice(context.Background(), url, tt.user)
			if status != tt.wantStatus || (err != nil) != tt.wantErr {
				t.Fatalf("got %d, %v; want %d, error %v", status, err, tt.wantStatus, tt.wantErr)
			}
			if tt.wantErr {
				if len(got) != 0 {
					t.Error("a request reached the endpoint")
				}
				return
			}
			r := <-got
			if r.method != http.MethodPost || r.contentType != "application/json" {
				t.Errorf("got %s %q; want POST application/json", r.method, r.contentType)
			}
			if !strings.Contains(string(r.body), `"userId":"`+tt.user+`"`) {
				t.Errorf("body %s does not name the user", r.body)
			}
			if _, ok := verify(t, publicKey(t, srv, srv.NotificationKeyID()), r.signature, r.body); !ok {
				t.Error("signature does not verify over the body received")
			}
		})
	}
}

func TestVerifyChallenge(t *testing.T) {
	const token = "verification_token-0123456789abcdef"
	// answer is an endpoint that answers the challenge correctly for
	// token, and endpoint URL u, unless edit changes what it sends.
	answer := func(tok string, status int, contentType string) func(u *string) http.HandlerFunc {
		return func(u *string) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				sum := sha256.Sum256([]byte(r.URL.Query().Get("challenge_code") + tok + *u))
				w.Header().Set("Content-Type", contentType)
				w.WriteHeader(status)
				fmt.Fprintf(w, `{"challengeResponse":%q}`, hex.EncodeToString(sum[:]))
			}
		}
	}
	tests := []struct {
		name    string
		answer  func(u *string) http.HandlerFunc
		wantErr string // "" for none
	}{
		{"right", answer(token, 200, "application/json"), ""},
		{"charset", answer(token, 200, "application/json; charset=utf-8"), ""},
		{"other token", answer(token+"x", 200, "application/json"), "wrong challengeResponse"},
		{"text/plain", answer(token, 200, "text/plain"), "not application/json"},
		{"500", answer(token, 500, "application/json"), "500"},
		{"not JSON", func(*string) http.HandlerFunc {
			return func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, "challengeResponse")
			}
		}, "not JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			var u string
			u, got := endpoint(t, func(w http.ResponseWriter, r *http.Request) { tt.answer(&u)(w, r) })
			err := srv.VerifyChallenge(context.Background(), u, token)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("got %v; want error containing %q", err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), token) {
				t.Errorf("error %q reveals the verification token", err)
			}
			r := <-got
			if r.method != http.MethodGet || !strings.HasPrefix(r.query, "challenge_code=") {
				t.Errorf("got %s ?%s; want GET ?challenge_code=…", r.method, r.query)
			}
		})
	}
	t.Run("not loopback", func(t *testing.T) {
		srv := newServer(t)
		if err := srv.VerifyChallenge(context.Background(), "https://example.com/x", token); err == nil {
			t.Error("got nil error")
		}
	})
}

func TestNotificationKeyIDsDiffer(t *testing.T) {
	a, b := newServer(t), newServer(t)
	if a.NotificationKeyID() == b.NotificationKeyID() {
		t.Errorf("two Servers share the kid %q", a.NotificationKeyID())
	}
}
