package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/ebaytest"
)

// proxy is the public face of serve, as a load balancer would be: its URL
// is known before serve starts (and picks a port), so it can be the
// deletion endpoint registered at eBay.
type proxy struct {
	*httptest.Server
	to atomic.Pointer[url.URL]
}

func newProxy(t *testing.T) *proxy {
	t.Helper()
	p := &proxy{}
	tr := &http.Transport{DisableKeepAlives: true}
	p.Server = httptest.NewServer(&httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			to := p.to.Load()
			r.SetURL(to)
			if to.Path != "" { // one path: the deletion endpoint behind a path of the proxy's own
				r.Out.URL.Path, r.Out.URL.RawPath = to.Path, ""
			}
		},
		Transport: tr,
	})
	t.Cleanup(p.Close)
	return p
}

// forward sends the proxy's requests to base: to the same path under it,
// or all to its path if it has one.
func (p *proxy) forward(t *testing.T, base string) {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	p.to.Store(u)
}

// newBrowser is a browser: it keeps cookies and follows redirects.
func newBrowser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Transport: &http.Transport{DisableKeepAlives: true}}
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// accountsStatus fetches serve's /status.
func (s *served) accountsStatus(t *testing.T) statusDoc {
	t.Helper()
	code, body := s.get(t, "/status")
	var d statusDoc
	if err := json.Unmarshal([]byte(body), &d); code != http.StatusOK || err != nil {
		t.Fatalf("/status: %d %v\n%s", code, err, body)
	}
	return d
}

// TestServeAccounts: a seller onboards through serve's /connect, eBay's
// consent page and /accept; eBay checks the deletion endpoint with a
// challenge and then sends a signed deletion notice, which removes the
// seller.
func TestServeAccounts(t *testing.T) {
	f := newSellersFake(t)
	const token = "verification-token_0123456789abcdef-ABC"
	f.secret(token)
	stateKey := f.secret(randomHex(32))
	p := newProxy(t)
	endpoint := p.URL + deletionPath // as registered at eBay
	t.Setenv(envDeletionToken, token)
	t.Setenv(envDeletionEndpoint, endpoint)
	t.Setenv(envStateKey, stateKey)
	// A refresh token for the single token is not what serve --accounts
	// keeps: it runs on an application token.
	t.Setenv(envRefreshToken, f.secret(f.IssueRefreshToken()))

	s := startServeTweaked(t, pageSize(1), "--accounts")
	p.forward(t, s.base)
	f.SetAcceptURL(s.base + "/accept") // at eBay: the RuName's accept URL

	// A seller who connected on the command line, and one through serve.
	runCLI(t, "accounts", "add", f.sellerCode(t, "u-dave", "dave", "EBAY_US")).want(t, 0)
	f.AddUser(ebaytest.User{ID: "u-carol", Username: "carol", Marketplace: "EBAY_GB"})
	f.SetConsentUser("u-carol")
	browser := newBrowser(t)
	resp, err := browser.Get(s.base + "/connect")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "carol") {
		t.Fatalf("onboarding ended with %s:\n%s\nserve's log:\n%s", resp.Status, page, s.stderr)
	}
	if ids, _ := listIDs(t, nil); strings.Join(ids, " ") != "u-carol u-dave" {
		t.Errorf("accounts after onboarding: %v; want u-carol u-dave", ids)
	}
	f.rememberStored(t)

	d := s.accountsStatus(t)
	if d.Accounts == nil || d.Accounts.Count != 2 || d.Accounts.NeedsConsent != 0 || d.Accounts.Error != "" {
		t.Errorf("/status accounts: %+v; want 2 accounts, none needing consent", d.Accounts)
	}
	if d.Kind != "application" {
		t.Errorf("/status kind %q; want serve's application token", d.Kind)
	}
	// The console lists the sellers (on loopback it needs no secret), and
	// counts the exchange behind each consent.
	if code, body := s.get(t, "/"); code != http.StatusOK || !strings.Contains(body, "carol") || !strings.Contains(body, "u-dave") {
		t.Errorf("console: %d; want a page listing carol and u-dave:\n%.2000s", code, body)
	}
	if code, body := s.get(t, "/api/state"); code != http.StatusOK || !strings.Contains(body, "u-carol") {
		t.Errorf("console state: %d %.500s", code, body)
	} else {
		f.assertNoSecrets(t, body)
	}

	// eBay registers the endpoint, then a seller closes their account.
	ctx := context.Background()
	if err := f.VerifyChallenge(ctx, endpoint, token); err != nil {
		t.Errorf("eBay's challenge: %v", err)
	}
	if status, err := f.SendDeletionNotice(ctx, endpoint, "u-carol"); err != nil || status != http.StatusNoContent {
		t.Errorf("deletion notice for carol: %d, %v; want 204", status, err)
	}
	if ids, _ := listIDs(t, nil); strings.Join(ids, " ") != "u-dave" {
		t.Errorf("accounts after carol's deletion: %v; want u-dave", ids)
	}
	if raw := readFile(t, f.tokenFile); strings.Contains(raw, "u-carol") {
		t.Error("the token file still mentions carol")
	}
	// Most notices are for eBay users the app never knew.
	if status, err := f.SendDeletionNotice(ctx, endpoint, ebaytest.DefaultUserID); err != nil || status != http.StatusNoContent {
		t.Errorf("deletion notice for a stranger: %d, %v; want 204", status, err)
	}
	if n := f.PublicKeyRequests(); n != 1 {
		t.Errorf("%d public key requests for two notices; want 1 (cached)", n)
	}
	if n := f.Mints(ebaytest.GrantClientCredentials); n < 1 {
		t.Error("serve minted no application token")
	}
	if d := s.accountsStatus(t); d.Accounts == nil || d.Accounts.Count != 1 {
		t.Errorf("/status accounts after the deletion: %+v; want 1", d.Accounts)
	}
	// A notice not signed by eBay deletes nothing.
	body, _, err := f.DeletionNotice("u-dave")
	if err != nil {
		t.Fatal(err)
	}
	if status, err := f.PostNotification(ctx, endpoint, body, "bm90IGEgc2lnbmF0dXJl"); err != nil || status != http.StatusPreconditionFailed {
		t.Errorf("unsigned notice: %d, %v; want 412", status, err)
	}
	if ids, _ := listIDs(t, nil); len(ids) != 1 {
		t.Errorf("accounts after an unsigned notice: %v", ids)
	}

	if code := s.stop(t); code != 0 {
		t.Errorf("serve exited %d", code)
	}
	logs := s.stderr.String()
	for _, want := range []string{"ebaytoken: onboarding sellers", "serving eBay's account-deletion notices", "ignored for sellers"} {
		if !strings.Contains(logs, want) {
			t.Errorf("serve's log lacks %q:\n%s", want, logs)
		}
	}
	f.assertNoSecrets(t, logs)
}

// TestServeAccountsDefaults: without a state key serve makes one and says
// what that costs; without the deletion settings it serves no deletion
// endpoint and says why.
func TestServeAccountsDefaults(t *testing.T) {
	f := newSellersFake(t)
	s := startServe(t, "--accounts")
	logs := s.stderr.String()
	if !strings.Contains(logs, envStateKey) || !strings.Contains(logs, "won't survive a restart") {
		t.Errorf("serve does not warn of its random state key:\n%s", logs)
	}
	if !strings.Contains(logs, "account-deletion notices are not served") || !strings.Contains(logs, envDeletionToken) {
		t.Errorf("serve does not say why it serves no deletion endpoint:\n%s", logs)
	}
	if code, _ := s.get(t, deletionPath); code != http.StatusNotFound {
		t.Errorf("GET %s: %d; want 404", deletionPath, code)
	}
	noRedirect := &http.Client{
		Transport:     &http.Transport{DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := noRedirect.Get(s.base + "/connect")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, f.URL+"/oauth2/authorize?") ||
		!strings.Contains(loc, url.QueryEscape(ebayauth.ScopeIdentity)) || !strings.Contains(loc, "state=") {
		t.Errorf("/connect: %d to %s; want eBay's consent page with the identity scope and a state", resp.StatusCode, loc)
	}
	if d := s.accountsStatus(t); d.Accounts == nil || d.Accounts.Count != 0 {
		t.Errorf("/status accounts: %+v; want 0", d.Accounts)
	}
}

// TestServeAccountsSecretFiles: the state key and the verification token
// can come from files.
func TestServeAccountsSecretFiles(t *testing.T) {
	f := newSellersFake(t)
	dir := t.TempDir()
	keyFile, tokenFile := filepath.Join(dir, "state.key"), filepath.Join(dir, "deletion.token")
	const token = "file-token_0123456789abcdefghijklmnop"
	if err := os.WriteFile(keyFile, []byte(f.secret(randomHex(32))+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tokenFile, []byte(f.secret(token)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := newProxy(t)
	endpoint := p.URL + "/hooks/ebay"
	s := startServe(t, "--accounts", "--state-key-file", keyFile, "--deletion-verification-token-file", tokenFile, "--deletion-endpoint", endpoint)
	p.forward(t, s.base+deletionPath)
	if err := f.VerifyChallenge(context.Background(), endpoint, token); err != nil {
		t.Errorf("eBay's challenge: %v", err)
	}
	if strings.Contains(s.stderr.String(), "random one") {
		t.Errorf("serve made a random state key though --state-key-file gives one:\n%s", s.stderr)
	}
	f.assertNoSecrets(t, s.stderr.String())
}

func TestServeAccountsErrors(t *testing.T) {
	const token = "verification-token_0123456789abcdef-ABC"
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		mention []string
	}{
		{"state key file without --accounts", nil, []string{"--state-key-file", "/nonexistent"}, []string{"--state-key-file", "only with --accounts"}},
		{"endpoint without --accounts", nil, []string{"--deletion-endpoint", "https://app.example.com/x"}, []string{"--deletion-endpoint"}},
		{"state key not hex", map[string]string{envStateKey: "not-hex-at-all-zzzz"}, []string{"--accounts"}, []string{envStateKey, "not hex"}},
		{"state key short", map[string]string{envStateKey: "00112233"}, []string{"--accounts"}, []string{envStateKey, "at least 32"}},
		{"state key file missing", nil, []string{"--accounts", "--state-key-file", "/nonexistent/key"}, []string{"--state-key-file"}},
		{"token without endpoint", map[string]string{envDeletionToken: token}, []string{"--accounts"}, []string{envDeletionToken, envDeletionEndpoint}},
		{"endpoint without token", map[string]string{envDeletionEndpoint: "https://app.example.com/ebay/account-deletion"}, []string{"--accounts"},
			[]string{envDeletionEndpoint, envDeletionToken}},
		{"token too short", map[string]string{envDeletionToken: "short-s3cret", envDeletionEndpoint: "https://app.example.com/d"}, []string{"--accounts"},
			[]string{envDeletionToken, "32 to 80"}},
		{"endpoint not a URL", map[string]string{envDeletionToken: token, envDeletionEndpoint: "app.example.com/d"}, []string{"--accounts"},
			[]string{envDeletionEndpoint}},
		{"no store", nil, []string{"--accounts", "--no-store"}, []string{"--no-store"}},
		{"database", nil, []string{"--accounts", "--database", "postgres://127.0.0.1/app"}, []string{"--database", envDatabaseSealKey}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newSellersFake(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			r := runCLI(t, append([]string{"serve", "--listen", "127.0.0.1:0"}, tt.args...)...).want(t, 2)
			for _, m := range tt.mention {
				if !strings.Contains(r.stderr, m) {
					t.Errorf("stderr lacks %q:\n%s", m, r)
				}
			}
			for _, secret := range []string{"short-s3cret", "not-hex-at-all"} {
				if strings.Contains(r.stderr, secret) {
					t.Errorf("the message shows a secret:\n%s", r)
				}
			}
			if strings.Contains(r.stderr, "ebaytoken: serving") {
				t.Errorf("serve started:\n%s", r)
			}
			if n := f.TotalTokenRequests(); n != 0 {
				t.Errorf("%d token requests", n)
			}
		})
	}
}
