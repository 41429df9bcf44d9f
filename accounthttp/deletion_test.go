package accounthttp_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/accounthttp"
	"github.com/ebayauth/ebayauth/ebaytest"
	"github.com/ebayauth/ebayauth/internal/syncbuf"
)

// The protocol document's worked challenge example.
const (
	exampleCode     = "a8628072-3d33-45ee-9004-bee86830a22d"
	exampleToken    = "71745723-d031-455c-bfa5-f90d11b4f20a"
	exampleEndpoint = "http://www.testendpoint.com/webhook"
	exampleAnswer   = "ca527df75caa230092d7e90484071e8f05d63068f1317973d6a3a42593734bbb"
)

// eBay's published notification test vector (shared/ebay-protocol.md).
const (
	vectorKID  = "9936261a-7d7b-4621-a0f1-96ccb428af49"
	vectorKey  = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEZhhxXKtR+TOvtDbgTPCkSof02qgBB7IsYOyf76ilExJ/upAa/vKIKheOoCyOpcLmi4t0b4uepb7LLjmMr90FUg=="
	vectorSig  = "eyJhbGciOiJlY2RzYSIsImtpZCI6Ijk5MzYyNjFhLTdkN2ItNDYyMS1hMGYxLTk2Y2NiNDI4YWY0OSIsInNpZ25hdHVyZSI6Ik1FWUNJUUNmeGZJV3V4bVdjSUJRSjljNS9YN2lHREpxczJSQ0dzQkVhQWppbnlycmZBSWhBSVY2d0djVGlCdVY1S0pVaWYyaG9reXJMK1E5c3NIa2FkK214Mm5FRTI1dyIsImRpZ2VzdCI6IlNIQTEifQ=="
	vectorBody = `{"metadata":{"topic":"MARKETPLACE_ACCOUNT_DELETION","schemaVersion":"1.0","deprecated":false},"notification":{"notificationId":"49feeaeb-4982-42d9-a377-9645b8479411_33f7e043-fed8-442b-9d44-791923bd9a6d","eventDate":"2021-03-19T20:43:59.462Z","publishDate":"2021-03-19T20:43:59.679Z","publishAttemptCount":1,"data":{"username":"test_user","userId":"ma8vp1jySJC","eiasToken":"nY+sHZ2PrBmdj6wVnY+sEZ2PrA2dj6wJnY+gAZGEpwmdj6x9nY+seQ=="}}}`
	vectorUser = "ma8vp1jySJC"
)

// verificationToken is a valid token for tests that do not use the worked
// example.
const verificationToken = "Tok_en-0123456789abcdefghijklmnopqrstuv"

// deletion is a fake eBay, a fake clock and a deletion handler served on a
// loopback URL, with what Delete was called with and what was logged.
type deletion struct {
	ebay     *ebaytest.Server
	clock    *ebaytest.Clock
	endpoint string
	logs     *syncbuf.Buffer

	mu      sync.Mutex
	deleted []string
	fail    error // Delete's answer
}

// newDeletion builds a deletion fixture; edit adjusts the config first.
func newDeletion(t *testing.T, edit func(*deletion, *accounthttp.DeletionConfig)) *deletion {
	t.Helper()
	d := &deletion{}
	d.ebay, d.clock = newEbay(t)
	logger, logs := newLogger()
	d.logs = logs
	d.endpoint = serve(t, false, func(base string) http.Handler {
		cfg := accounthttp.DeletionConfig{
			VerificationToken: verificationToken,
			Endpoint:          base + "/ebay/account-deletion",
			Keys:              appManager(t, d.ebay, d.clock).Client(),
			APIURL:            d.ebay.URL,
			Delete:            d.delete,
			Clock:             d.clock,
			Logger:            logger,
		}
		if edit != nil {
			edit(d, &cfg)
		}
		h, err := accounthttp.NewDeletionHandler(cfg)
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		mux.Handle("/ebay/account-deletion", h)
		return mux
	}).URL + "/ebay/account-deletion"
	t.Cleanup(func() { noSecrets(t, "log", d.logs.String(), verificationToken) })
	return d
}

func (d *deletion) delete(_ context.Context, userID string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fail != nil {
		return d.fail
	}
	d.deleted = append(d.deleted, userID)
	return nil
}

func (d *deletion) setFail(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.fail = err
}

func (d *deletion) deletedIDs() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.deleted)
}

// post delivers body with the signature header as eBay does.
func (d *deletion) post(t *testing.T, body []byte, sig string) int {
	t.Helper()
	status, err := d.ebay.PostNotification(context.Background(), d.endpoint, body, sig)
	if err != nil {
		t.Fatal(err)
	}
	return status
}

// send delivers a notice for the seller id, signed by the fake.
func (d *deletion) send(t *testing.T, id string) int {
	t.Helper()
	status, err := d.ebay.SendDeletionNotice(context.Background(), d.endpoint, id)
	if err != nil {
		t.Fatal(err)
	}
	return status
}

// sigHeader builds an X-EBAY-SIGNATURE header from its fields.
func sigHeader(alg, kid, sig, digest string) string {
	b, _ := json.Marshal(map[string]string{"alg": alg, "kid": kid, "signature": sig, "digest": digest})
	return base64.StdEncoding.EncodeToString(b)
}

// signatureOf returns the base64 DER signature inside header h.
func signatureOf(t *testing.T, h string) string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ Signature string }
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	return f.Signature
}

func TestChallengeWorkedExample(t *testing.T) {
	if got := accounthttp.ChallengeResponse(exampleCode, exampleToken, exampleEndpoint); got != exampleAnswer {
		t.Errorf("ChallengeResponse: got %q; want %q", got, exampleAnswer)
	}
	h, err := accounthttp.NewDeletionHandler(accounthttp.DeletionConfig{
		VerificationToken: exampleToken,
		Endpoint:          exampleEndpoint,
		Keys:              http.DefaultClient, // not used by the challenge
		Delete:            func(context.Context, string) error { return errors.New("not called") },
		Logger:            slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/webhook?challenge_code="+exampleCode, nil))
	want := `{"challengeResponse":"` + exampleAnswer + `"}` + "\n"
	if rec.Code != 200 || rec.Body.String() != want {
		t.Errorf("got %d %q; want 200 %q", rec.Code, rec.Body, want)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type: got %q; want %q", ct, "application/json")
	}
}

func TestChallengeFromFake(t *testing.T) {
	tests := []struct {
		name     string
		token    string // what eBay was told
		endpoint func(registered string) string
		wantErr  bool
	}{
		{"registered URL", verificationToken, func(u string) string { return u }, false},
		{"other token", verificationToken + "x", func(u string) string { return u }, true},
		{"URL with trailing slash", verificationToken, func(u string) string { return u + "/" }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var registered string
			d := newDeletion(t, func(_ *deletion, cfg *accounthttp.DeletionConfig) {
				registered = cfg.Endpoint
				cfg.Endpoint = tt.endpoint(cfg.Endpoint)
			})
			err := d.ebay.VerifyChallenge(context.Background(), registered, tt.token)
			if (err != nil) != tt.wantErr {
				t.Errorf("VerifyChallenge: got %v; want error %v", err, tt.wantErr)
			}
		})
	}
}

func TestPublishedVector(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		wantStatus int
		wantUsers  []string
	}{
		{"published notice", vectorBody, 204, []string{vectorUser}},
		{"other user name", strings.Replace(vectorBody, "test_user", "test_usex", 1), 412, nil},
		{"user name dropped", strings.Replace(vectorBody, "test_user", "", 1), 412, nil},
		{"re-serialized", func() string {
			var b bytes.Buffer
			json.Indent(&b, []byte(vectorBody), "", " ")
			return b.String()
		}(), 412, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDeletion(t, nil)
			d.ebay.SetNotificationKey(vectorKID, vectorKey)
			if got := d.post(t, []byte(tt.body), vectorSig); got != tt.wantStatus {
				t.Errorf("status: got %d; want %d", got, tt.wantStatus)
			}
			if got := d.deletedIDs(); !slices.Equal(got, tt.wantUsers) {
				t.Errorf("deleted: got %q; want %q", got, tt.wantUsers)
			}
		})
	}
}

func TestNoticeFromFake(t *testing.T) {
	d := newDeletion(t, nil)
	for _, id := range []string{gbSeller.ID, ebaytest.DefaultUserID, "never-connected"} {
		if id == "never-connected" {
			d.ebay.AddUser(ebaytest.User{ID: id}) // eBay notifies about every account
		}
		if got := d.send(t, id); got != http.StatusNoContent {
			t.Errorf("notice for %s: got %d; want 204", id, got)
		}
	}
	want := []string{gbSeller.ID, ebaytest.DefaultUserID, "never-connected"}
	if got := d.deletedIDs(); !slices.Equal(got, want) {
		t.Errorf("deleted: got %q; want %q", got, want)
	}
	if n := d.ebay.PublicKeyRequests(); n != 1 {
		t.Errorf("PublicKeyRequests: got %d; want 1 (key cached)", n)
	}
}

func TestBadSignatures(t *testing.T) {
	other := ebaytest.NewServer() // signs with a key the handler's eBay does not serve
	t.Cleanup(other.Close)
	tests := []struct {
		name      string
		sig       func(d *deletion, body []byte) string
		wantFetch int // getPublicKey requests
	}{
		{"no header", func(*deletion, []byte) string { return "" }, 0},
		{"not base64", func(*deletion, []byte) string { return "%%%not base64%%%" }, 0},
		{"not JSON", func(*deletion, []byte) string { return base64.StdEncoding.EncodeToString([]byte("alg=ecdsa")) }, 0},
		{"alg RSA", func(d *deletion, b []byte) string {
			return sigHeader("rsa", d.ebay.NotificationKeyID(), signatureOf(t, d.ebay.SignNotification(b)), "SHA1")
		}, 0},
		{"digest SHA256", func(d *deletion, b []byte) string {
			return sigHeader("ecdsa", d.ebay.NotificationKeyID(), signatureOf(t, d.ebay.SignNotification(b)), "SHA256")
		}, 0},
		{"no kid", func(d *deletion, b []byte) string {
			return sigHeader("ecdsa", "", signatureOf(t, d.ebay.SignNotification(b)), "SHA1")
		}, 0},
		{"kid escaping the path", func(d *deletion, b []byte) string {
			return sigHeader("ecdsa", "..", signatureOf(t, d.ebay.SignNotification(b)), "SHA1")
		}, 0},
		{"signature not base64", func(d *deletion, b []byte) string {
			return sigHeader("ecdsa", d.ebay.NotificationKeyID(), "!!", "SHA1")
		}, 0},
		{"signature of other bytes", func(d *deletion, b []byte) string {
			return d.ebay.SignNotification(append(b, ' '))
		}, 1},
		{"signature by another key under this kid", func(d *deletion, b []byte) string {
			return sigHeader("ecdsa", d.ebay.NotificationKeyID(), signatureOf(t, other.SignNotification(b)), "SHA1")
		}, 1},
		{"kid eBay does not know", func(_ *deletion, b []byte) string { return other.SignNotification(b) }, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDeletion(t, nil)
			body, _, err := d.ebay.DeletionNotice(gbSeller.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got := d.post(t, body, tt.sig(d, body)); got != http.StatusPreconditionFailed {
				t.Errorf("status: got %d; want 412", got)
			}
			if got := d.deletedIDs(); len(got) != 0 {
				t.Errorf("deleted %q", got)
			}
			if n := d.ebay.PublicKeyRequests(); n != tt.wantFetch {
				t.Errorf("PublicKeyRequests: got %d; want %d", n, tt.wantFetch)
			}
		})
	}
}

func TestKeyFetchFailures(t *testing.T) {
	tests := []struct {
		name  string
		setup func(*deletion, *accounthttp.DeletionConfig)
	}{
		{"eBay answers 503", func(d *deletion, _ *accounthttp.DeletionConfig) {
			d.ebay.FailPublicKey(1, http.StatusServiceUnavailable)
		}},
		{"eBay answers 500", func(d *deletion, _ *accounthttp.DeletionConfig) {
			d.ebay.FailPublicKey(1, http.StatusInternalServerError)
		}},
		{"client carries no token", func(d *deletion, cfg *accounthttp.DeletionConfig) {
			plain := d.ebay.Client()
			cfg.Keys = &http.Client{Transport: once(plain.Transport, cfg.Keys.Transport)}
		}},
		{"client carries a user token", func(d *deletion, cfg *accounthttp.DeletionConfig) {
			user := &bearer{d.ebay, userAccessToken(t, d.ebay)}
			cfg.Keys = &http.Client{Transport: once(user, cfg.Keys.Transport)}
		}},
		{"network error", func(_ *deletion, cfg *accounthttp.DeletionConfig) {
			cfg.Keys = &http.Client{Transport: once(failingTransport{}, cfg.Keys.Transport)}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDeletion(t, tt.setup)
			if got := d.send(t, gbSeller.ID); got != http.StatusInternalServerError {
				t.Errorf("first notice: got %d; want 500", got)
			}
			if got := d.deletedIDs(); len(got) != 0 {
				t.Errorf("deleted %q after a failed key fetch", got)
			}
			// The failure was not cached: eBay's retry succeeds.
			if got := d.send(t, gbSeller.ID); got != http.StatusNoContent {
				t.Errorf("retried notice: got %d; want 204", got)
			}
			if got := d.deletedIDs(); !slices.Equal(got, []string{gbSeller.ID}) {
				t.Errorf("deleted: got %q; want %q", got, []string{gbSeller.ID})
			}
		})
	}
}

// once uses first for one request, then then.
func once(first, then http.RoundTripper) http.RoundTripper {
	var mu sync.Mutex
	used := false
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		rt := then
		if !used {
			used, rt = true, first
		}
		mu.Unlock()
		return rt.RoundTrip(r)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

type failingTransport struct{}

func (failingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("connection refused")
}

// bearer sends requests with a fixed bearer token through ebay's client.
type bearer struct {
	ebay  *ebaytest.Server
	token string
}

func (b *bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.ebay.Client().Transport.RoundTrip(r)
}

// userAccessToken mints a user access token for the fake's default seller.
func userAccessToken(t *testing.T, ebay *ebaytest.Server) string {
	t.Helper()
	tok, err := (&ebayauth.Config{
		ClientID: ebaytest.ClientID, ClientSecret: ebaytest.ClientSecret, RuName: ebaytest.RuName,
		Endpoint: ebay.Endpoint(), HTTPClient: ebay.Client(),
	}).Exchange(context.Background(), ebay.IssueCode())
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

func TestKeyCache(t *testing.T) {
	tests := []struct {
		name string
		ttl  time.Duration // configured; 0 for the default
		want time.Duration // effective
	}{
		{"default TTL", 0, time.Hour},
		{"five minutes", 5 * time.Minute, 5 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDeletion(t, func(_ *deletion, cfg *accounthttp.DeletionConfig) { cfg.KeyTTL = tt.ttl })
			steps := []struct {
				advance   time.Duration
				wantFetch int
			}{
				{0, 1}, {0, 1}, {0, 1},
				{tt.want - time.Second, 1}, // still fresh
				{time.Second, 2},           // expired: fetched again
				{tt.want - time.Second, 2},
				{time.Second, 3},
			}
			for i, s := range steps {
				d.clock.Advance(s.advance)
				if got := d.send(t, gbSeller.ID); got != http.StatusNoContent {
					t.Fatalf("notice %d: got %d; want 204", i, got)
				}
				if n := d.ebay.PublicKeyRequests(); n != s.wantFetch {
					t.Errorf("after notice %d: PublicKeyRequests got %d; want %d", i, n, s.wantFetch)
				}
			}
		})
	}
}

// TestKeyFetchedOnceInABurst holds the key fetch until every notice of a
// burst has reached the handler: they must all wait for that one fetch.
func TestKeyFetchedOnceInABurst(t *testing.T) {
	const burst = 20
	arrived := make(chan struct{}, burst)
	release := make(chan struct{})
	var fetches sync.WaitGroup
	d := newDeletion(t, func(_ *deletion, cfg *accounthttp.DeletionConfig) {
		inner := cfg.Keys.Transport
		cfg.Keys = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			<-release
			return inner.RoundTrip(r)
		})}
	})
	// Count arrivals in front of the handler.
	endpoint := serve(t, false, func(string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			arrived <- struct{}{}
			proxy(t, w, r, d.endpoint)
		})
	}).URL
	statuses := make(chan int, burst)
	for range burst {
		fetches.Go(func() {
			status, err := d.ebay.SendDeletionNotice(context.Background(), endpoint, gbSeller.ID)
			if err != nil {
				t.Error(err)
			}
			statuses <- status
		})
	}
	for range burst {
		<-arrived
	}
	close(release)
	fetches.Wait()
	close(statuses)
	for s := range statuses {
		if s != http.StatusNoContent {
			t.Errorf("status: got %d; want 204", s)
		}
	}
	if n := d.ebay.PublicKeyRequests(); n != 1 {
		t.Errorf("PublicKeyRequests: got %d; want 1", n)
	}
	if n := len(d.deletedIDs()); n != burst {
		t.Errorf("Delete called %d times; want %d", n, burst)
	}
}

// proxy forwards r to target and copies the answer back.
func proxy(t *testing.T, w http.ResponseWriter, r *http.Request, target string) {
	req, err := http.NewRequestWithContext(r.Context(), r.Method, target, r.Body)
	if err != nil {
		t.Error(err)
		return
	}
	req.Header = r.Header.Clone()
	tr := &http.Transport{DisableKeepAlives: true}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Error(err)
		return
	}
	defer resp.Body.Close()
	w.WriteHeader(resp.StatusCode)
}

func TestNoticeContent(t *testing.T) {
	tests := []struct {
		name       string
		edit       func(body string) string
		wantStatus int
		wantUsers  []string
	}{
		{"deletion", func(b string) string { return b }, 204, []string{gbSeller.ID}},
		{"other topic", func(b string) string {
			return strings.Replace(b, ebaytest.TopicAccountDeletion, "ITEM_SOLD", 1)
		}, 204, nil},
		{"no userId", func(b string) string {
			return strings.Replace(b, `"userId":"`+gbSeller.ID+`"`, `"userId":""`, 1)
		}, 400, nil},
		{"not JSON", func(string) string { return "userId=" + gbSeller.ID }, 400, nil},
		{"too large", func(b string) string { return b + strings.Repeat(" ", accounthttp.MaxNoticeBytes) }, 413, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDeletion(t, nil)
			body, _, err := d.ebay.DeletionNotice(gbSeller.ID)
			if err != nil {
				t.Fatal(err)
			}
			edited := []byte(tt.edit(string(body)))
			if got := d.post(t, edited, d.ebay.SignNotification(edited)); got != tt.wantStatus {
				t.Errorf("status: got %d; want %d", got, tt.wantStatus)
			}
			if got := d.deletedIDs(); !slices.Equal(got, tt.wantUsers) {
				t.Errorf("deleted: got %q; want %q", got, tt.wantUsers)
			}
		})
	}
}

func TestDeleteFails(t *testing.T) {
	d := newDeletion(t, nil)
	d.setFail(errors.New("database down"))
	body, sig, err := d.ebay.DeletionNotice(gbSeller.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := d.post(t, body, sig); got != http.StatusInternalServerError {
		t.Errorf("while Delete fails: got %d; want 500", got)
	}
	d.setFail(nil)
	if got := d.post(t, body, sig); got != http.StatusNoContent { // eBay redelivers the same notice
		t.Errorf("redelivered: got %d; want 204", got)
	}
	if got := d.deletedIDs(); !slices.Equal(got, []string{gbSeller.ID}) {
		t.Errorf("deleted: got %q; want %q", got, []string{gbSeller.ID})
	}
	if !strings.Contains(d.logs.String(), "database down") {
		t.Errorf("log does not say why Delete failed:\n%s", d.logs)
	}
}

func TestDeletionMethods(t *testing.T) {
	d := newDeletion(t, nil)
	tests := []struct {
		method, query string
		want          int
		wantAllow     string
	}{
		{http.MethodPut, "", 405, "GET, POST"},
		{http.MethodDelete, "", 405, "GET, POST"},
		{http.MethodGet, "", 400, ""},
		{http.MethodGet, "?challenge_code=", 400, ""},
		{http.MethodGet, "?challenge_code=x", 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+tt.query, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, d.endpoint+tt.query, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want || resp.Header.Get("Allow") != tt.wantAllow {
				t.Errorf("got %d Allow %q; want %d Allow %q", resp.StatusCode, resp.Header.Get("Allow"), tt.want, tt.wantAllow)
			}
		})
	}
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
}

func TestDeletionConfig(t *testing.T) {
	good := func() accounthttp.DeletionConfig {
		return accounthttp.DeletionConfig{
			VerificationToken: verificationToken,
			Endpoint:          "https://app.example/ebay/account-deletion",
			Keys:              http.DefaultClient,
			Delete:            func(context.Context, string) error { return nil },
		}
	}
	tests := []struct {
		name      string
		edit      func(*accounthttp.DeletionConfig)
		wantField string // "" for no error
	}{
		{"valid", func(*accounthttp.DeletionConfig) {}, ""},
		{"token of 32", func(c *accounthttp.DeletionConfig) { c.VerificationToken = strings.Repeat("a", 32) }, ""},
		{"token of 80", func(c *accounthttp.DeletionConfig) { c.VerificationToken = strings.Repeat("_-9Z", 20) }, ""},
		{"token of 31", func(c *accounthttp.DeletionConfig) { c.VerificationToken = strings.Repeat("a", 31) }, "VerificationToken"},
		{"token of 81", func(c *accounthttp.DeletionConfig) { c.VerificationToken = strings.Repeat("a", 81) }, "VerificationToken"},
		{"token with a dot", func(c *accounthttp.DeletionConfig) { c.VerificationToken = strings.Repeat("a", 40) + "." }, "VerificationToken"},
		{"no token", func(c *accounthttp.DeletionConfig) { c.VerificationToken = "" }, "VerificationToken"},
		{"no endpoint", func(c *accounthttp.DeletionConfig) { c.Endpoint = "" }, "Endpoint"},
		{"relative endpoint", func(c *accounthttp.DeletionConfig) { c.Endpoint = "/ebay/account-deletion" }, "Endpoint"},
		{"endpoint with fragment", func(c *accounthttp.DeletionConfig) { c.Endpoint += "#x" }, "Endpoint"},
		{"no Keys", func(c *accounthttp.DeletionConfig) { c.Keys = nil }, "Keys"},
		{"no Delete", func(c *accounthttp.DeletionConfig) { c.Delete = nil }, "Delete"},
		{"bad APIURL", func(c *accounthttp.DeletionConfig) { c.APIURL = "api.ebay.com" }, "APIURL"},
		{"negative KeyTTL", func(c *accounthttp.DeletionConfig) { c.KeyTTL = -time.Second }, "KeyTTL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good()
			tt.edit(&cfg)
			h, err := accounthttp.NewDeletionHandler(cfg)
			if tt.wantField == "" {
				if err != nil || h == nil {
					t.Fatalf("got %v; want a handler", err)
				}
				return
			}
			var ce *accounthttp.ConfigError
			if !errors.As(err, &ce) || ce.Field != tt.wantField {
				t.Fatalf("got %v; want a ConfigError for %s", err, tt.wantField)
			}
			if !strings.HasPrefix(err.Error(), "accounthttp: DeletionConfig."+tt.wantField) {
				t.Errorf("message %q lacks the prefix", err)
			}
			if cfg.VerificationToken != "" {
				noSecrets(t, "error", err.Error(), cfg.VerificationToken)
			}
		})
	}
}

func TestKeyError(t *testing.T) {
	tests := []struct {
		err           *accounthttp.KeyError
		wantUnknown   bool
		wantTemporary bool
		want          string
	}{
		{&accounthttp.KeyError{KID: "k", StatusCode: 404, Message: "errorId 195001: not found"}, true, false,
			`accounthttp: fetching notification key "k": HTTP 404 Not Found: errorId 195001: not found`},
		{&accounthttp.KeyError{KID: "k", StatusCode: 503}, false, true,
			`accounthttp: fetching notification key "k": HTTP 503 Service Unavailable`},
		{&accounthttp.KeyError{KID: "k", Err: errors.New("connection refused")}, false, true,
			`accounthttp: fetching notification key "k": connection refused`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error: got %q; want %q", got, tt.want)
			}
			if got := errors.Is(tt.err, accounthttp.ErrUnknownKey); got != tt.wantUnknown {
				t.Errorf("Is(ErrUnknownKey): got %v; want %v", got, tt.wantUnknown)
			}
			if got := tt.err.Temporary(); got != tt.wantTemporary {
				t.Errorf("Temporary: got %v; want %v", got, tt.wantTemporary)
			}
		})
	}
}
