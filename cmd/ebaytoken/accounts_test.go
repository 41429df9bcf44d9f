package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/ebaytest"
	"github.com/ebayauth/ebayauth/filestore"
)

// sellerScopes are what the tests' sellers consent to: EBAY_SCOPES and the
// identity scope accounts connect-url adds.
var sellerScopes = []string{ebayauth.ScopeAPI, ebayauth.ScopeAPI + "/sell.inventory", ebayauth.ScopeIdentity}

// newSellersFake is newFake set up for sellers: the RuName, the scopes,
// and none of serve --accounts' settings from the developer's environment.
func newSellersFake(t *testing.T) *fake {
	t.Helper()
	f := newFake(t)
	t.Setenv(envRuName, ebaytest.RuName)
	t.Setenv(envScopes, ebayauth.ScopeAPI+" "+ebayauth.ScopeAPI+"/sell.inventory")
	for _, n := range []string{envStateKey, envDeletionToken, envDeletionEndpoint} {
		t.Setenv(n, "")
	}
	return f
}

// sellerCode adds the seller id to the fake, if new, and returns an
// authorization code of theirs, as eBay's consent page would.
func (f *fake) sellerCode(t *testing.T, id, username, marketplace string) string {
	t.Helper()
	if _, ok := f.User(id); !ok {
		f.AddUser(ebaytest.User{ID: id, Username: username, Marketplace: marketplace})
	}
	return f.secret(f.IssueCodeFor(id, sellerScopes...))
}

// rememberStored remembers every refresh and access token in the token
// file as a secret.
func (f *fake) rememberStored(t *testing.T) {
	t.Helper()
	var file struct {
		Records  map[string]*ebayauth.Record  `json:"records"`
		Accounts map[string]*ebayauth.Account `json:"accounts"`
	}
	raw := readFileMaybe(f.tokenFile)
	if raw == "" {
		return
	}
	if err := json.Unmarshal([]byte(raw), &file); err != nil {
		t.Fatalf("token file: %v", err)
	}
	for _, a := range file.Accounts {
		f.secret(a.RefreshToken)
	}
	for _, r := range file.Records {
		if r.Token != nil {
			f.secret(r.Token.AccessToken)
		}
	}
}

// runTweaked runs the command line with a tweak of the call (if not nil),
// as run's tests may.
func runTweaked(t *testing.T, tweak func(*call), stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var tweaks []func(*call)
	if tweak != nil {
		tweaks = append(tweaks, tweak)
	}
	var stdout, stderr bytes.Buffer
	code := run(ctx, args, strings.NewReader(stdin), &stdout, &stderr, tweaks...)
	return result{code, stdout.String(), stderr.String()}
}

// pageSize makes ListAccounts pages n accounts long.
func pageSize(n int) func(*call) { return func(c *call) { c.accounts.pageSize = n } }

// listIDs runs accounts list and returns the ids of its rows.
func listIDs(t *testing.T, tweak func(*call), args ...string) ([]string, result) {
	t.Helper()
	r := runTweaked(t, tweak, "", append([]string{"accounts", "list"}, args...)...).want(t, 0)
	var ids []string
	for i, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if line == "" {
			continue
		}
		if i == 0 {
			if !strings.HasPrefix(line, "ID ") {
				t.Fatalf("accounts list has no header:\n%s", r)
			}
			continue
		}
		ids = append(ids, strings.Fields(line)[0])
	}
	return ids, r
}

func TestAccounts(t *testing.T) {
	f := newSellersFake(t)
	var outputs []string
	keep := func(r result) result {
		outputs = append(outputs, r.stdout, r.stderr)
		return r
	}

	ids, r := listIDs(t, nil)
	if len(ids) != 0 || !strings.Contains(r.stderr, "no accounts in file:") {
		t.Errorf("list of an empty store:\n%s", r)
	}

	// Three sellers: by code, by the accept URL eBay redirects to, by
	// standard input.
	r = keep(runCLI(t, "accounts", "add", f.sellerCode(t, "u-alice", "alice", "EBAY_GB")).want(t, 0))
	if !strings.HasPrefix(r.stdout, "connected account u-alice (alice, EBAY_GB); refresh token expires ") {
		t.Errorf("add by code:\n%s", r)
	}
	accept := "https://app.example.com/ebay/accept?code=" + url.QueryEscape(f.sellerCode(t, "u-bob", "bob", "EBAY_DE")) + "&expires_in=299&state=xyz"
	r = keep(runCLI(t, "accounts", "add", accept, "--json").want(t, 0))
	var added accountDoc
	if err := json.Unmarshal([]byte(r.stdout), &added); err != nil {
		t.Fatal(err)
	}
	if added.ID != "u-bob" || added.Username != "bob" || added.Marketplace != "EBAY_DE" || added.NeedsConsent ||
		time.Until(added.RefreshTokenExpiry) < 500*24*time.Hour || added.RefreshTokenExpiring {
		t.Errorf("add by accept URL --json: %+v", added)
	}
	if strings.Contains(r.stdout, `"refresh_token":`) {
		t.Errorf("add --json shows a refresh token:\n%s", r.stdout)
	}
	keep(runStdin(t, f.sellerCode(t, "u-carol", "carol", "EBAY_US")+"\n", "accounts", "add", "-").want(t, 0))
	f.rememberStored(t)

	// Pages of one account: list asks three times and shows all three.
	ids, r = listIDs(t, pageSize(1))
	keep(r)
	if strings.Join(ids, " ") != "u-alice u-bob u-carol" {
		t.Errorf("list with pages of 1: %v; want u-alice u-bob u-carol\n%s", ids, r)
	}
	for _, want := range []string{"USERNAME", "MARKETPLACE", "NEEDS CONSENT", "REFRESH TOKEN EXPIRES", "alice", "EBAY_GB", "EBAY_DE"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("list lacks %q:\n%s", want, r.stdout)
		}
	}
	if !strings.Contains(r.stderr, "3 accounts, 0 need consent") {
		t.Errorf("list summary:\n%s", r.stderr)
	}
	ids, r = listIDs(t, pageSize(1), "--limit", "2")
	if strings.Join(ids, " ") != "u-alice u-bob" || !strings.Contains(r.stderr, "more follow") {
		t.Errorf("list --limit 2: %v\n%s", ids, r)
	}
	r = keep(runTweaked(t, pageSize(2), "", "accounts", "list", "--json").want(t, 0))
	var docs []accountDoc
	if err := json.Unmarshal([]byte(r.stdout), &docs); err != nil {
		t.Fatalf("list --json is not a JSON array: %v\n%s", err, r.stdout)
	}
	if len(docs) != 3 || docs[2].ID != "u-carol" || docs[2].Username != "carol" || docs[0].RefreshTokenExpiry.IsZero() {
		t.Errorf("list --json: %+v", docs)
	}

	r = keep(runCLI(t, "accounts", "show", "u-alice").want(t, 0))
	for _, want := range []string{"account:", "u-alice", "username:", "alice", "EBAY_GB", "needs consent:", "sell.inventory",
		"refresh token expires:", "access token:", "state:", "user"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("show lacks %q:\n%s", want, r.stdout)
		}
	}

	// token --account prints a token eBay accepts for that seller.
	r = runCLI(t, "token", "--account", "u-alice").want(t, 0)
	tok := strings.TrimSpace(r.stdout)
	f.secret(tok)
	req, _ := http.NewRequest(http.MethodGet, f.URL+"/commerce/identity/v1/user/", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := f.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"userId":"u-alice"`) {
		t.Errorf("the Identity API with alice's printed token: %d %s", resp.StatusCode, body)
	}
	if again := runCLI(t, "token", "--account", "u-alice").want(t, 0); again.stdout != r.stdout {
		t.Error("a second token --account minted again instead of using the stored token")
	}
	if n := f.Mints(ebaytest.GrantRefreshToken); n != 1 {
		t.Errorf("%d refresh_token mints; want 1", n)
	}
	r = keep(runCLI(t, "refresh", "--account", "u-alice").want(t, 0))
	if !strings.HasPrefix(r.stdout, "no refresh needed") {
		t.Errorf("refresh --account:\n%s", r)
	}
	r = keep(runCLI(t, "validate", "--account", "u-alice").want(t, 0))
	if !strings.HasPrefix(r.stdout, "valid: eBay accepted token") {
		t.Errorf("validate --account:\n%s", r)
	}
	d := statusJSON(t, 0, "--account", "u-alice")
	if d.Account != "u-alice" || d.Kind != "user" || d.State != ebayauth.StateFresh || d.Fingerprint != fingerprint(tok) || d.RefreshTokenExpiry.IsZero() {
		t.Errorf("status --account --json: %+v", d)
	}
	for _, w := range d.Warnings {
		if strings.Contains(w, envRefreshTokenExp) {
			t.Errorf("status --account tells to set %s: %q", envRefreshTokenExp, w)
		}
	}
	r = keep(runCLI(t, "status", "--account", "u-nobody").want(t, 1))
	if !strings.Contains(r.stderr, "no account u-nobody") || !strings.Contains(r.stderr, "accounts list") {
		t.Errorf("status of an unknown account:\n%s", r)
	}

	// Bob changes his password: his refresh token stops working.
	r = runCLI(t, "token", "--account", "u-bob").want(t, 0) // prints a token: its stdout is not kept
	outputs = append(outputs, r.stderr)
	f.rememberStored(t)
	f.RevokeUser("u-bob")
	r = keep(runCLI(t, "force-refresh", "--account", "u-bob").want(t, 1))
	if !strings.Contains(r.stderr, "invalid_grant") || !strings.Contains(r.stderr, "ebaytoken accounts connect-url") {
		t.Errorf("force-refresh for a revoked seller:\n%s", r)
	}
	r = keep(runCLI(t, "status", "--account", "u-bob").want(t, 1))
	if !strings.Contains(r.stdout, "needs_consent") || !strings.Contains(r.stderr, "account u-bob needs consent") ||
		!strings.Contains(r.stderr, "ebaytoken accounts connect-url") {
		t.Errorf("status of a seller who must consent again:\n%s", r)
	}
	d = statusJSON(t, 1, "--account", "u-bob")
	if d.State != ebayauth.StateNeedsConsent || d.Healthy {
		t.Errorf("status --account --json of the revoked seller: %s healthy=%v", d.State, d.Healthy)
	}
	reqs := f.TokenRequests(ebaytest.GrantRefreshToken)
	r = keep(runCLI(t, "token", "--account", "u-bob").want(t, 1))
	if r.stdout != "" || !strings.Contains(r.stderr, "needs consent") || !strings.Contains(r.stderr, "accounts connect-url") {
		t.Errorf("token for a seller who must consent again:\n%s", r)
	}
	if n := f.TokenRequests(ebaytest.GrantRefreshToken); n != reqs {
		t.Errorf("%d refresh_token requests for a seller known to need consent; want 0", n-reqs)
	}
	ids, r = listIDs(t, nil)
	keep(r)
	if len(ids) != 3 || !strings.Contains(r.stderr, "1 need consent") {
		t.Errorf("list with a revoked seller:\n%s", r)
	}
	// Bob consents again: his account works again.
	keep(runCLI(t, "accounts", "add", f.sellerCode(t, "u-bob", "", "")).want(t, 0))
	f.rememberStored(t)
	r = runCLI(t, "token", "--account", "u-bob").want(t, 0)
	outputs = append(outputs, r.stderr)
	f.rememberStored(t)

	r = keep(runCLI(t, "accounts", "remove", "u-carol").want(t, 0))
	if !strings.HasPrefix(r.stdout, "removed account u-carol (carol)") {
		t.Errorf("remove:\n%s", r)
	}
	if ids, _ := listIDs(t, nil); strings.Join(ids, " ") != "u-alice u-bob" {
		t.Errorf("list after remove: %v", ids)
	}
	r = keep(runCLI(t, "accounts", "remove", "u-carol").want(t, 1))
	if !strings.Contains(r.stderr, "no account u-carol") {
		t.Errorf("remove again:\n%s", r)
	}
	r = keep(runCLI(t, "accounts", "show", "u-carol", "--json").want(t, 1))

	f.assertNoSecrets(t, outputs...)
}

func TestAccountsRefreshTokenExpiring(t *testing.T) {
	f := newSellersFake(t)
	runCLI(t, "accounts", "add", f.sellerCode(t, "u-alice", "alice", "EBAY_US")).want(t, 0)
	fs, err := filestore.New(f.tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	acct, err := fs.LoadAccount(ctx, "u-alice")
	if err != nil {
		t.Fatal(err)
	}
	acct.RefreshTokenExpiry = time.Now().Add(10*24*time.Hour + time.Hour)
	if err := fs.SaveAccount(ctx, acct); err != nil {
		t.Fatal(err)
	}
	_, r := listIDs(t, nil)
	if !strings.Contains(r.stdout, "(in 10 days) WARNING: within 30 days") || !strings.Contains(r.stderr, "1 with a refresh token expiring") {
		t.Errorf("list of a seller whose refresh token expires in 10 days:\n%s", r)
	}
	r = runCLI(t, "accounts", "list", "--json").want(t, 0)
	var docs []accountDoc
	if err := json.Unmarshal([]byte(r.stdout), &docs); err != nil || len(docs) != 1 || !docs[0].RefreshTokenExpiring {
		t.Errorf("list --json: %v %+v", err, docs)
	}
	r = runCLI(t, "accounts", "show", "u-alice").want(t, 0)
	if !strings.Contains(r.stdout, "WARNING: within 30 days") || !strings.Contains(r.stdout, "accounts connect-url") {
		t.Errorf("show of a seller whose refresh token expires in 10 days:\n%s", r)
	}
}

func TestAccountsConnectURL(t *testing.T) {
	newSellersFake(t)
	r := runCLI(t, "accounts", "connect-url", "--state", "st-1").want(t, 0)
	u, err := url.Parse(strings.TrimSpace(r.stdout))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Path != "/oauth2/authorize" || q.Get("state") != "st-1" || q.Get("redirect_uri") != ebaytest.RuName ||
		!strings.Contains(q.Get("scope"), ebayauth.ScopeIdentity) || !strings.Contains(q.Get("scope"), "sell.inventory") {
		t.Errorf("accounts connect-url: %s", u)
	}
	if !strings.Contains(r.stderr, "ebaytoken accounts add") {
		t.Errorf("connect-url should say what comes next:\n%s", r.stderr)
	}
	r = runCLI(t, "accounts", "connect-url", "--json").want(t, 0)
	var doc struct {
		URL    string   `json:"url"`
		Scopes []string `json:"scopes"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || len(doc.Scopes) != 3 || doc.URL == "" {
		t.Errorf("connect-url --json: %v %+v", err, doc)
	}
}

func TestAccountsAddErrors(t *testing.T) {
	f := newSellersFake(t)
	t.Run("declined", func(t *testing.T) {
		r := runCLI(t, "accounts", "add", "https://app.example.com/ebay/declined?error=access_denied").want(t, 1)
		if !strings.Contains(r.stderr, "declined") {
			t.Errorf("add of a declined consent:\n%s", r)
		}
	})
	t.Run("used code", func(t *testing.T) {
		code := f.sellerCode(t, "u-alice", "alice", "EBAY_US")
		runCLI(t, "accounts", "add", code).want(t, 0)
		f.rememberStored(t)
		r := runCLI(t, "accounts", "add", code).want(t, 1)
		if !strings.Contains(r.stderr, "invalid_grant") || !strings.Contains(r.stderr, "accounts connect-url") {
			t.Errorf("add of a used code:\n%s", r)
		}
		f.assertNoSecrets(t, r.stdout, r.stderr)
	})
	t.Run("no identity scope", func(t *testing.T) {
		f.AddUser(ebaytest.User{ID: "u-dan"})
		code := f.secret(f.IssueCodeFor("u-dan", ebayauth.ScopeAPI))
		r := runCLI(t, "accounts", "add", code).want(t, 1)
		if !strings.Contains(r.stderr, ebayauth.ScopeIdentity) {
			t.Errorf("add of a consent without the identity scope:\n%s", r)
		}
		f.rememberStored(t)
		f.assertNoSecrets(t, r.stdout, r.stderr)
	})
}

func TestAccountsUsage(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		mention []string // in stderr
	}{
		{"no action", nil, []string{"accounts"}, []string{"takes ACTION"}},
		{"unknown action", nil, []string{"accounts", "frob"}, []string{`unknown action "frob"`, "show ID"}},
		{"show without id", nil, []string{"accounts", "show"}, []string{"accounts show takes ID"}},
		{"list with argument", nil, []string{"accounts", "list", "x"}, []string{"accounts list takes no arguments"}},
		{"state for list", nil, []string{"accounts", "list", "--state", "s"}, []string{"--state"}},
		{"limit for show", nil, []string{"accounts", "show", "u-1", "--limit", "3"}, []string{"--limit"}},
		{"negative limit", nil, []string{"accounts", "list", "--limit", "-1"}, []string{"--limit"}},
		{"add without RuName", map[string]string{envRuName: ""}, []string{"accounts", "add", "code"}, []string{envRuName}},
		{"connect-url without RuName", map[string]string{envRuName: ""}, []string{"accounts", "connect-url"}, []string{envRuName}},
		{"add without credentials", map[string]string{envClientSecret: ""}, []string{"accounts", "add", "code"}, []string{envClientSecret}},
		{"add empty stdin", nil, []string{"accounts", "add", "-"}, []string{"standard input"}},
		{"no store", nil, []string{"accounts", "list", "--no-store"}, []string{"--no-store"}},
		{"no store for a seller", nil, []string{"token", "--account", "u-1", "--no-store"}, []string{"--no-store"}},
		{"database flag without seal key", nil, []string{"accounts", "list", "--database", "postgres://app:pw-s3cret@127.0.0.1:5432/app"},
			[]string{"--database", envDatabaseSealKey}},
		{"database variable without seal key", map[string]string{envDatabaseURL: "postgres://app:pw-s3cret@127.0.0.1:5432/app"}, []string{"accounts", "show", "u-1"},
			[]string{envDatabaseURL, envDatabaseSealKey}},
		{"database for a seller without seal key", nil, []string{"status", "--account", "u-1", "--database", "postgresql://127.0.0.1/app"},
			[]string{"--database", envDatabaseSealKey}},
		{"database for the single token without seal key", nil, []string{"status", "--database", "postgresql://127.0.0.1/app"}, []string{"--database", envDatabaseSealKey}},
		{"bad seal key", map[string]string{envDatabaseSealKey: "not-a-key"}, []string{"accounts", "list", "--database", "postgres://127.0.0.1/app"},
			[]string{envDatabaseSealKey}},
		{"database not postgres", nil, []string{"accounts", "list", "--database", "mysql://app:pw-s3cret@127.0.0.1/app"}, []string{"--database", "postgres://"}},
		{"database and store file", nil, []string{"accounts", "list", "--database", "postgres://127.0.0.1/app", "--store-file", "/tmp/x.json"},
			[]string{"--database and --store-file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newSellersFake(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			r := runCLI(t, tt.args...).want(t, 2)
			for _, m := range tt.mention {
				if !strings.Contains(r.stderr, m) {
					t.Errorf("stderr lacks %q:\n%s", m, r)
				}
			}
			if strings.Contains(r.stderr, "pw-s3cret") {
				t.Errorf("the message shows the database password:\n%s", r)
			}
			if strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
				t.Errorf("a usage error should be one line:\n%s", r.stderr)
			}
			if n := f.TotalTokenRequests(); n != 0 {
				t.Errorf("a usage error made %d token requests", n)
			}
		})
	}
}

// TestAccountsIgnoreSingleToken: the single token's refresh token does not
// keep sellers' commands from working, and a note says it is not used.
func TestAccountsIgnoreSingleToken(t *testing.T) {
	f := newSellersFake(t)
	t.Setenv(envRefreshToken, f.secret(f.IssueRefreshToken()))
	r := runCLI(t, "accounts", "add", f.sellerCode(t, "u-alice", "alice", "EBAY_US")).want(t, 0)
	if !strings.Contains(r.stderr, envRefreshToken) || !strings.Contains(r.stderr, "ignored for sellers") {
		t.Errorf("add with EBAY_REFRESH_TOKEN set:\n%s", r)
	}
	f.rememberStored(t)
	f.assertNoSecrets(t, r.stdout, r.stderr)
}
