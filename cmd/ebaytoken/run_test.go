package main

import (
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/ebaytest"
)

func TestUsage(t *testing.T) {
	clearEnv(t)
	tests := []struct {
		name string
		args []string
		code int
		out  string // in stdout
		err  string // in stderr
	}{
		{"help", []string{"help"}, 0, "consent-url", ""},
		{"dash h", []string{"-h"}, 0, "exchange CODE|URL|-", ""},
		{"help lists Django names", []string{"--help"}, 0, "EBAY_PRODUCTION_CERT_ID", ""},
		{"help subcommand", []string{"help", "serve"}, 0, "-webhook", ""},
		{"subcommand -h", []string{"status", "-h"}, 0, "-json", ""},
		{"no subcommand", nil, 2, "", "ebaytoken help"},
		{"unknown subcommand", []string{"frobnicate"}, 2, "", `unknown subcommand "frobnicate"`},
		{"help unknown", []string{"help", "frobnicate"}, 2, "", "unknown subcommand"},
		{"unknown flag", []string{"status", "--frob"}, 2, "", "flag provided but not defined"},
		{"extra argument", []string{"status", "extra"}, 2, "", "takes no arguments; run 'ebaytoken help status'"},
		{"exchange without code", []string{"exchange"}, 2, "", "takes CODE|URL|-"},
		{"exchange two codes", []string{"exchange", "a", "b"}, 2, "", "takes CODE|URL|-"},
		{"serve takes no --json", []string{"serve", "--json"}, 2, "", "flag provided but not defined: -json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, tt.args...).want(t, tt.code)
			if !strings.Contains(r.stdout, tt.out) {
				t.Errorf("stdout lacks %q:\n%s", tt.out, r)
			}
			if !strings.Contains(r.stderr, tt.err) {
				t.Errorf("stderr lacks %q:\n%s", tt.err, r)
			}
			if tt.code == 2 && strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
				t.Errorf("a usage error should be one line:\n%s", r.stderr)
			}
		})
	}
}

func TestMissingCredentials(t *testing.T) {
	clearEnv(t)
	for _, args := range [][]string{
		{"status"}, {"refresh"}, {"force-refresh"}, {"validate"}, {"token"},
		{"exchange", "some-code"}, {"serve", "--listen", "127.0.0.1:0"}, {"demo", "--live"},
	} {
		t.Run(args[0], func(t *testing.T) {
			r := runCLI(t, args...).want(t, 2)
			for _, name := range []string{envClientID, envClientSecret, djangoAppID, djangoCertID} {
				if !strings.Contains(r.stderr, name) {
					t.Errorf("the message does not name %s:\n%s", name, r)
				}
			}
		})
	}
	t.Run("consent-url", func(t *testing.T) {
		r := runCLI(t, "consent-url").want(t, 2)
		for _, name := range []string{envClientID, envRuName} {
			if !strings.Contains(r.stderr, name) {
				t.Errorf("the message does not name %s:\n%s", name, r)
			}
		}
	})
	t.Run("secret only", func(t *testing.T) {
		t.Setenv(envClientID, ebaytest.ClientID)
		r := runCLI(t, "token").want(t, 2)
		if strings.Contains(r.stderr, envClientID+" (") || !strings.Contains(r.stderr, envClientSecret) {
			t.Errorf("the message should name only the missing secret:\n%s", r)
		}
	})
}

func TestBadSettings(t *testing.T) {
	const legacy = "AgAAAA**AQAAAA**aAAAAA**legacy+auth+n+auth+token=="
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		mention string
		// not: what the message must not say (another setting's name).
		not []string
	}{
		{"negative buffer", map[string]string{envRefreshBuffer: "-5m"}, nil, envRefreshBuffer, nil},
		{"negative buffer flag", nil, []string{"--refresh-buffer", "-1h"}, "--refresh-buffer", nil},
		{"negative Django buffer", map[string]string{djangoBufferHours: "-1"}, nil, djangoBufferHours, nil},
		{"buffer not a number", map[string]string{djangoBufferHours: "soon"}, nil, djangoBufferHours, nil},
		{"buffer not a duration", map[string]string{envRefreshBuffer: "an hour"}, nil, envRefreshBuffer, nil},
		{"unknown environment", map[string]string{envEnvironment: "staging"}, nil, envEnvironment, nil},
		{"unknown environment flag", nil, []string{"--env", "qa"}, "--env", nil},
		{"malformed token URL", map[string]string{envTokenURL: "://nope", envAPIURL: "http://127.0.0.1:1"}, nil, envTokenURL, nil},
		{"relative API URL", map[string]string{envAPIURL: "api.ebay.com"}, nil, envAPIURL, nil},
		{"ftp API URL flag", nil, []string{"--api-url", "ftp://api.ebay.com"}, "--api-url", nil},
		{"bad redis URL", map[string]string{envRedisURL: "http://localhost:6379"}, nil, envRedisURL, nil},
		{"bad redis database flag", nil, []string{"--redis", "redis://127.0.0.1:6379/notadb"}, "--redis", []string{envRedisURL}},
		{"bad redis database", map[string]string{envRedisURL: "redis://127.0.0.1:6379/notadb"}, nil, envRedisURL, []string{"--redis"}},
		{"bad seal key", map[string]string{envRedisSealKey: "abcd"}, nil, envRedisSealKey, nil},
		// serve's schedule: only serve reads it.
		{"negative interval", map[string]string{envValidateInterval: "-30"}, []string{"serve"}, envValidateInterval, nil},
		{"bad interval", map[string]string{envRefreshInterval: "hourly"}, []string{"serve"}, envRefreshInterval, nil},
		{"bad switch", map[string]string{envRefreshEnabled: "maybe"}, []string{"serve"}, envRefreshEnabled, nil},
		{"bad listen address", nil, []string{"serve", "--listen", "not-an-addr"}, "--listen", []string{envListen}},
		{"bad listen port", map[string]string{envListen: "127.0.0.1:http-ish"}, []string{"serve"}, envListen, []string{"--listen"}},
		{"bad cache timeout", map[string]string{djangoCacheTimeout: "long"}, nil, djangoCacheTimeout, nil},
		{"scope not a URL", map[string]string{envScopes: "api_scope"}, nil, envScopes, nil},
		{"scopes all separators", map[string]string{envScopes: ",,,"}, nil, envScopes, nil},
		{"scope over http", map[string]string{envScopes: "http://api.ebay.com/oauth/api_scope"}, nil, envScopes, nil},
		{"scope flag over http", nil, []string{"--scopes", "http://api.ebay.com/oauth/api_scope"}, "--scopes", []string{envScopes}},
		{"bad refresh token expiry", map[string]string{envRefreshTokenExp: "next year"}, nil, envRefreshTokenExp, nil},
		{"missing config file", nil, []string{"--config", "/nonexistent/ebay.yaml"}, "--config", []string{envConfig}},
		{"missing config file from the environment", map[string]string{envConfig: "/nonexistent/ebay.yaml"}, nil, envConfig, []string{"--config"}},
		{"no-store and redis", nil, []string{"--no-store", "--redis", "redis://127.0.0.1:1"}, "--no-store", nil},
		{"legacy fallback, Django name", map[string]string{djangoUserToken: legacy}, nil, djangoUserToken, []string{"Config."}},
		{"legacy fallback", map[string]string{envFallback: legacy}, nil, envFallback, []string{djangoUserToken, "Config."}},
		{"fallback with a space", map[string]string{envFallback: "v^1.1#two words"}, nil, envFallback, []string{"Config."}},
		{"token URL alone", map[string]string{envTokenURL: "http://127.0.0.1:1/identity/v1/oauth2/token"}, nil, envTokenURL, nil},
		{"token URL flag alone", nil, []string{"--token-url", "http://127.0.0.1:1/identity/v1/oauth2/token"}, "--token-url", []string{envTokenURL}},
		{"eBay token URL with a custom API", map[string]string{envAPIURL: "http://127.0.0.1:1", envTokenURL: ebayauth.Production.TokenURL}, nil, envTokenURL, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			t.Setenv(envAPIURL, "") // the fake's URL, unless the case sets one
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			args := append([]string{"status"}, tt.args...)
			if len(tt.args) > 0 && tt.args[0] == "serve" {
				args = tt.args
				if !slices.Contains(args, "--listen") && tt.env[envListen] == "" {
					args = append(args, "--listen", "127.0.0.1:0") // should it start after all
				}
			}
			r := runCLI(t, args...).want(t, 2)
			if !strings.Contains(r.stderr, tt.mention) {
				t.Errorf("the error does not name %s:\n%s", tt.mention, r)
			}
			for _, n := range tt.not {
				if strings.Contains(r.stderr, n) {
					t.Errorf("the error names %s, which the case does not use:\n%s", n, r)
				}
			}
			if strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
				t.Errorf("a usage error should be one line:\n%s", r.stderr)
			}
			if strings.Contains(r.stderr, "AgAAAA**") || strings.Contains(r.stderr, "two words") {
				t.Errorf("the error shows the fallback token:\n%s", r.stderr)
			}
			if n := f.TotalTokenRequests(); n != 0 {
				t.Errorf("a bad configuration made %d token requests", n)
			}
		})
	}
}

// TestLegacyFallbackMessage: the message names the variable set and the
// token eBay wants instead.
func TestLegacyFallbackMessage(t *testing.T) {
	newFake(t)
	t.Setenv(djangoUserToken, "AgAAAA**AQAAAA**aAAAAA**legacy==")
	r := runCLI(t, "token").want(t, 2)
	for _, want := range []string{djangoUserToken, "Auth'n'Auth", "OAuth", "v^1.1#", envFallback} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
}

// TestScopesAgreeWithLibrary: the command accepts a scope setting exactly
// when ebayauth.Config.Check accepts its scopes.
func TestScopesAgreeWithLibrary(t *testing.T) {
	for _, v := range []string{
		ebayauth.ScopeAPI,
		ebayauth.ScopeAPI + " " + ebayauth.ScopeAPI + "/sell.inventory",
		ebayauth.ScopeAPI + ",\n" + ebayauth.ScopeAPI + "/sell.account",
		"http://api.ebay.com/oauth/api_scope",
		"https://",
		"api_scope",
		"ftp://api.ebay.com/oauth/api_scope",
		"https://api.ebay.com/oauth/api_scope%zz",
	} {
		t.Run(v, func(t *testing.T) {
			newFake(t)
			t.Setenv(envScopes, v)
			scopes := strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' || r == '\n' })
			libErr := ebayauth.Config{ClientID: "id", ClientSecret: "secret", Scopes: scopes}.Check()
			r := runCLI(t, "consent-url", "--runame", "R")
			if got, want := r.code == exitUsage, libErr != nil; got != want {
				t.Errorf("command refuses: %v; library refuses: %v (%v)\n%s", got, want, libErr, r)
			}
		})
	}
}

// statusJSON runs status --json and decodes it.
func statusJSON(t *testing.T, wantCode int, args ...string) statusDoc {
	t.Helper()
	r := runCLI(t, append([]string{"status", "--json"}, args...)...).want(t, wantCode)
	var d statusDoc
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
		t.Fatalf("status --json: %v\n%s", err, r)
	}
	return d
}

func TestRefreshAndStatus(t *testing.T) {
	f := newFake(t)
	var outputs []string

	// Nothing stored: unhealthy, and status mints nothing.
	r := runCLI(t, "status").want(t, 1)
	outputs = append(outputs, r.stdout, r.stderr)
	if !strings.Contains(r.stdout, "none (UNHEALTHY)") {
		t.Errorf("status of an empty store:\n%s", r)
	}
	if n := f.TotalTokenRequests(); n != 0 {
		t.Fatalf("status made %d token requests", n)
	}

	r = runCLI(t, "refresh").want(t, 0)
	outputs = append(outputs, r.stdout, r.stderr)
	if !strings.HasPrefix(r.stdout, "refreshed: new token "+fingerprint(f.LastIssued())) {
		t.Errorf("refresh:\n%s", r)
	}

	d := statusJSON(t, 0)
	if d.State != ebayauth.StateFresh || !d.Healthy || d.Source != "store" {
		t.Errorf("status after refresh: state %q healthy %v source %q; want fresh, true, store", d.State, d.Healthy, d.Source)
	}
	if d.Fingerprint != fingerprint(f.LastIssued()) {
		t.Errorf("status fingerprint %q; want that of the minted token", d.Fingerprint)
	}
	if d.Kind != "application" || d.ClientID != maskedID(ebaytest.ClientID) || d.ClientID == ebaytest.ClientID {
		t.Errorf("kind %q client id %q", d.Kind, d.ClientID)
	}
	if d.ExpiresIn < 7000 || d.LastRefresh.IsZero() || !strings.HasPrefix(d.Store, "file:") {
		t.Errorf("expires_in %d, last refresh %v, store %q", d.ExpiresIn, d.LastRefresh, d.Store)
	}
	if len(d.Scopes) != 1 || d.Scopes[0] != ebayauth.ScopeAPI {
		t.Errorf("scopes %v", d.Scopes)
	}

	// Inside the token's fresh period refresh does nothing.
	r = runCLI(t, "refresh").want(t, 0)
	outputs = append(outputs, r.stdout, r.stderr)
	if !strings.HasPrefix(r.stdout, "no refresh needed") || f.Mints(ebaytest.GrantClientCredentials) != 1 {
		t.Errorf("second refresh minted (%d mints):\n%s", f.Mints(ebaytest.GrantClientCredentials), r)
	}
	r = runCLI(t, "status").want(t, 0)
	outputs = append(outputs, r.stdout, r.stderr)
	for _, want := range []string{"fresh (healthy)", "application", "custom (", "scopes:", "last refresh:", "stored in:", "file:"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("status text lacks %q:\n%s", want, r.stdout)
		}
	}

	// force-refresh mints whatever the state.
	old := f.LastIssued()
	r = runCLI(t, "force-refresh", "--json").want(t, 0)
	outputs = append(outputs, r.stdout, r.stderr)
	var rr refreshResult
	if err := json.Unmarshal([]byte(r.stdout), &rr); err != nil {
		t.Fatal(err)
	}
	if rr.Action != "refreshed" || f.Mints(ebaytest.GrantClientCredentials) != 2 || f.LastIssued() == old {
		t.Errorf("force-refresh: action %q, %d mints", rr.Action, f.Mints(ebaytest.GrantClientCredentials))
	}
	if d := statusJSON(t, 0); d.Fingerprint != fingerprint(f.LastIssued()) {
		t.Errorf("status after force-refresh shows %s; want the new token", d.Fingerprint)
	}
	f.assertNoSecrets(t, outputs...)
}

func TestRefreshInsideWindow(t *testing.T) {
	f := newFake(t)
	runCLI(t, "refresh").want(t, 0)
	// 90 minutes later the two-hour token is inside the default one-hour
	// window, but not inside a five-minute one.
	ageRecords(t, f.tokenFile, 90*time.Minute)
	r := runCLI(t, "refresh", "--refresh-buffer", "5m").want(t, 0)
	if !strings.HasPrefix(r.stdout, "no refresh needed") || f.Mints(ebaytest.GrantClientCredentials) != 1 {
		t.Errorf("refresh with a 5m buffer:\n%s", r)
	}
	r = runCLI(t, "refresh", "--json").want(t, 0)
	var rr refreshResult
	if err := json.Unmarshal([]byte(r.stdout), &rr); err != nil {
		t.Fatal(err)
	}
	if rr.Action != "refreshed" || f.Mints(ebaytest.GrantClientCredentials) != 2 {
		t.Errorf("refresh inside the window: action %q, %d mints; want refreshed, 2", rr.Action, f.Mints(ebaytest.GrantClientCredentials))
	}
}

func TestRefreshFailures(t *testing.T) {
	t.Run("invalid client", func(t *testing.T) {
		f := newFake(t)
		t.Setenv(envClientSecret, f.secret("wrong-secret-0123456789"))
		r := runCLI(t, "refresh").want(t, 1)
		for _, want := range []string{"refresh failed", "invalid_client", "check EBAY_CLIENT_ID"} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, r)
			}
		}
		r2 := runCLI(t, "force-refresh").want(t, 1)
		r3 := runCLI(t, "token").want(t, 1)
		f.assertNoSecrets(t, r.stdout, r.stderr, r2.stdout, r2.stderr, r3.stdout, r3.stderr)
	})
	t.Run("invalid grant", func(t *testing.T) {
		f := newFake(t)
		rt := f.secret(f.IssueRefreshToken())
		f.RevokeRefreshToken(rt)
		t.Setenv(envRefreshToken, rt)
		r := runCLI(t, "refresh", "--json").want(t, 1)
		if !strings.Contains(r.stderr, "invalid_grant") || !strings.Contains(r.stderr, "consent") {
			t.Errorf("stderr:\n%s", r)
		}
		var rr refreshResult
		if err := json.Unmarshal([]byte(r.stdout), &rr); err != nil || rr.Action != "failed" || rr.Kind != "user" || rr.LastError == "" {
			t.Errorf("refresh --json: %v %+v", err, rr)
		}
		if n := f.TokenRequests(ebaytest.GrantRefreshToken); n != 1 {
			t.Errorf("%d refresh_token requests; want 1 (invalid_grant is not retried)", n)
		}
		if d := statusJSON(t, 1); d.State != ebayauth.StateNone || d.Healthy {
			t.Errorf("status after invalid_grant: %+v; want none and unhealthy", d)
		}
		f.assertNoSecrets(t, r.stdout, r.stderr)
	})
	t.Run("fallback", func(t *testing.T) {
		f := newFake(t)
		t.Setenv(envFallback, f.secret("v^1.1#fallback+token/=="))
		f.FailNext(-1, http.StatusUnauthorized, `{"error":"invalid_client","error_description":"client authentication failed"}`)
		r := runCLI(t, "refresh").want(t, 1)
		if !strings.Contains(r.stderr, "fallback") {
			t.Errorf("refresh with only the fallback:\n%s", r)
		}
		f.assertNoSecrets(t, r.stdout, r.stderr)
		// token prints the fallback, with a warning: token's stdout is for the token.
		r = runCLI(t, "token").want(t, 0)
		if r.stdout != "v^1.1#fallback+token/==\n" || !strings.Contains(r.stderr, "fallback") {
			t.Errorf("token with only the fallback:\n%s", r)
		}
	})
}

func TestToken(t *testing.T) {
	f := newFake(t)
	r := runCLI(t, "token").want(t, 0)
	if r.stdout != f.LastIssued()+"\n" {
		t.Fatalf("token printed %q; want the minted token alone", r.stdout)
	}
	if r.stderr != "" {
		t.Errorf("token wrote to stderr: %q", r.stderr)
	}
	// The token works as a Bearer token against eBay (here the fake).
	req, _ := http.NewRequest(http.MethodGet, f.URL+"/buy/browse/v1/item_summary/search?q=drone", nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(r.stdout))
	resp, err := f.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the printed token got HTTP %d", resp.StatusCode)
	}

	// A second process reuses the stored token.
	r = runCLI(t, "token", "--json").want(t, 0)
	var tr tokenResult
	if err := json.Unmarshal([]byte(r.stdout), &tr); err != nil {
		t.Fatal(err)
	}
	if tr.AccessToken != f.LastIssued() || tr.TokenType != "Application Access Token" || tr.ExpiresIn < 7000 {
		t.Errorf("token --json: %+v", tr)
	}
	if n := f.Mints(ebaytest.GrantClientCredentials); n != 1 {
		t.Errorf("%d mints; want 1", n)
	}
}

func TestTokenStaleDuringOutage(t *testing.T) {
	f := newFake(t)
	runCLI(t, "refresh").want(t, 0)
	ageRecords(t, f.tokenFile, 90*time.Minute) // stale: 30 minutes left
	stored := f.LastIssued()
	f.FailNext(-1, http.StatusBadGateway, "<html>bad gateway</html>")
	r := runCLI(t, "token").want(t, 0)
	if r.stdout != stored+"\n" {
		t.Errorf("token during an outage printed %q; want the stored, still valid token", r.stdout)
	}
	r = runCLI(t, "refresh").want(t, 1)
	if !strings.Contains(r.stderr, "HTTP 502") || !strings.Contains(r.stderr, "still valid for") {
		t.Errorf("refresh during an outage should say why and that the stored token works:\n%s", r)
	}
	if d := statusJSON(t, 0); d.State != ebayauth.StateStale || !d.Healthy {
		t.Errorf("status during the outage: %s healthy=%v; want stale and healthy", d.State, d.Healthy)
	}
	f.assertNoSecrets(t, r.stdout, r.stderr)
}

func TestValidate(t *testing.T) {
	f := newFake(t)
	r := runCLI(t, "validate").want(t, 0)
	if !strings.HasPrefix(r.stdout, "valid: eBay accepted token ") {
		t.Errorf("validate:\n%s", r)
	}
	outputs := []string{r.stdout, r.stderr}
	f.RevokeAll()
	r = runCLI(t, "validate").want(t, 1)
	outputs = append(outputs, r.stdout, r.stderr)
	if !strings.Contains(r.stdout, "invalid: eBay answered token") || !strings.Contains(r.stdout, "error 1001") {
		t.Errorf("validate of a revoked token:\n%s", r)
	}
	if !strings.Contains(r.stdout, "ebaytoken refresh") {
		t.Errorf("validate of a revoked token should say to run refresh:\n%s", r)
	}
	// The verdict is in the store: status reports it, and validate again
	// says so without minting a replacement.
	d := statusJSON(t, 1)
	if d.State != ebayauth.StateRejected || d.ValidationError == "" || d.LastValidation.IsZero() {
		t.Errorf("status does not remember the failed validation: %+v", d)
	}
	mints := f.Mints(ebaytest.GrantClientCredentials)
	r = runCLI(t, "validate", "--json").want(t, 1)
	outputs = append(outputs, r.stdout, r.stderr)
	var vr validateResult
	if err := json.Unmarshal([]byte(r.stdout), &vr); err != nil {
		t.Fatal(err)
	}
	if vr.Valid || !vr.Rejected || !strings.Contains(vr.Error, "1001") || f.Mints(ebaytest.GrantClientCredentials) != mints {
		t.Errorf("validate --json of the rejected token: %+v, %d mints; want rejected, eBay's error, no mint", vr, f.Mints(ebaytest.GrantClientCredentials)-mints)
	}
	f.assertNoSecrets(t, outputs...)

	t.Run("no token", func(t *testing.T) {
		f := newFake(t)
		f.FailNext(-1, http.StatusUnauthorized, `{"error":"invalid_client","error_description":"client authentication failed"}`)
		r := runCLI(t, "validate").want(t, 1)
		if !strings.Contains(r.stdout, "cannot validate") {
			t.Errorf("validate without a token:\n%s", r)
		}
	})
	t.Run("fallback", func(t *testing.T) {
		// No token can be minted: validate checks the static fallback
		// token, which eBay (here the fake, which never issued it) refuses.
		f := newFake(t)
		fallback := f.secret("v^1.1#fallback+token/==")
		t.Setenv(envFallback, fallback)
		f.FailNext(-1, http.StatusUnauthorized, `{"error":"invalid_client","error_description":"client authentication failed"}`)
		r := runCLI(t, "validate").want(t, 1)
		want := "invalid: eBay answered the static fallback token " + fingerprint(fallback) + " with HTTP 401\n"
		if !strings.HasPrefix(r.stdout, want) {
			t.Errorf("got %q; want it to start %q", r.stdout, want)
		}
		if first, _, _ := strings.Cut(r.stdout, "\n"); strings.Contains(first, "  ") {
			t.Errorf("double space in %q", first)
		}
		r = runCLI(t, "validate", "--json").want(t, 1)
		var vr validateResult
		if err := json.Unmarshal([]byte(r.stdout), &vr); err != nil {
			t.Fatal(err)
		}
		if !vr.Fallback || vr.Fingerprint != fingerprint(fallback) || vr.StatusCode != http.StatusUnauthorized {
			t.Errorf("validate --json: %+v; want the fallback's fingerprint and HTTP 401", vr)
		}
		f.assertNoSecrets(t, r.stdout, r.stderr)
	})
}

// TestEnvironmentAgrees: status, status --json and serve's /status name
// the environment as the library does: "custom" for a fake eBay.
func TestEnvironmentAgrees(t *testing.T) {
	f := newFake(t)
	m, err := ebayauth.New(ebayauth.Config{ClientID: ebaytest.ClientID, ClientSecret: ebaytest.ClientSecret,
		Endpoint: f.Endpoint(), Store: ebayauth.NewMemoryStore()})
	if err != nil {
		t.Fatal(err)
	}
	lib := m.Status().Environment
	m.Close()
	if lib != "custom" {
		t.Fatalf("the library says %q", lib)
	}
	runCLI(t, "refresh").want(t, 0)
	if d := statusJSON(t, 0); d.Environment != lib || d.Endpoint != strings.TrimPrefix(f.URL, "http://") {
		t.Errorf("status --json: environment %q, endpoint %q; want %q, the fake's host", d.Environment, d.Endpoint, lib)
	}
	r := runCLI(t, "status").want(t, 0)
	if want := "environment:    custom (" + strings.TrimPrefix(f.URL, "http://") + ")\n"; !strings.Contains(r.stdout, want) {
		t.Errorf("status lacks %q:\n%s", want, r.stdout)
	}
	s := startServe(t)
	_, body := s.get(t, "/status")
	var d statusDoc
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatal(err)
	}
	if d.Environment != lib {
		t.Errorf("/status environment %q; want %q", d.Environment, lib)
	}
	for _, rec := range s.logs(t) {
		if rec["msg"] == "ebaytoken: serving" && rec["environment"] != "custom ("+strings.TrimPrefix(f.URL, "http://")+")" {
			t.Errorf("serve's start line: environment %v", rec["environment"])
		}
	}
	t.Run("eBay's", func(t *testing.T) {
		clearEnv(t)
		t.Setenv(envClientID, ebaytest.ClientID)
		t.Setenv(envClientSecret, ebaytest.ClientSecret)
		t.Setenv(envEnvironment, "sandbox")
		if d := statusJSON(t, 1, "--no-store"); d.Environment != "sandbox" || d.Endpoint != "" {
			t.Errorf("environment %q, endpoint %q; want sandbox and none", d.Environment, d.Endpoint)
		}
	})
}

func TestConsentAndExchange(t *testing.T) {
	f := newFake(t)
	t.Setenv(envRuName, ebaytest.RuName)
	t.Setenv(envScopes, ebayauth.ScopeAPI+" "+ebayauth.ScopeAPI+"/sell.inventory")

	r := runCLI(t, "consent-url", "--state", "xyz").want(t, 0)
	consent, err := url.Parse(strings.TrimSpace(r.stdout))
	if err != nil {
		t.Fatal(err)
	}
	q := consent.Query()
	if consent.Path != "/oauth2/authorize" || q.Get("client_id") != ebaytest.ClientID || q.Get("redirect_uri") != ebaytest.RuName ||
		q.Get("response_type") != "code" || q.Get("state") != "xyz" || !strings.Contains(q.Get("scope"), "sell.inventory") {
		t.Errorf("consent URL %s", consent)
	}
	if !strings.Contains(r.stderr, "ebaytoken exchange") {
		t.Errorf("consent-url should say what comes next:\n%s", r.stderr)
	}

	// The seller consents: the fake redirects to the accept URL with a code.
	noRedirect := *f.Client()
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noRedirect.Get(consent.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	redirect := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.Contains(redirect, "code=") {
		t.Fatalf("consent answered %d, Location %q", resp.StatusCode, redirect)
	}

	r = runCLI(t, "exchange", redirect).want(t, 0)
	var rt string
	for _, line := range strings.Split(r.stdout, "\n") {
		if v, ok := strings.CutPrefix(line, "  export "+envRefreshToken+"='"); ok {
			rt = strings.TrimSuffix(v, "'")
		}
	}
	var rtExp string
	for _, line := range strings.Split(r.stdout, "\n") {
		if v, ok := strings.CutPrefix(line, "  export "+envRefreshTokenExp+"="); ok {
			rtExp = v
		}
	}
	if rt == "" || rtExp == "" {
		t.Fatalf("exchange output:\n%s", r)
	}
	f.secret(rt)
	if strings.Count(r.stdout, rt) != 1 {
		t.Errorf("the refresh token should be shown once:\n%s", r.stdout)
	}
	if r.stderr != "" {
		t.Errorf("exchange wrote to stderr:\n%s", r.stderr)
	}

	// With the refresh token and its expiry exported as exchange says, the
	// user token flow works: token mints one user token, status reports it.
	t.Setenv(envRefreshToken, rt)
	t.Setenv(envRefreshTokenExp, rtExp)
	tok := runCLI(t, "token").want(t, 0)
	if n := f.Mints(ebaytest.GrantRefreshToken); n != 1 {
		t.Errorf("token after exchange made %d refresh_token mints; want 1", n)
	}
	d := statusJSON(t, 0)
	if d.Kind != "user" || d.State != ebayauth.StateFresh || d.RefreshTokenExpiry.IsZero() || d.RefreshTokenExpiring {
		t.Errorf("status of the user token: %+v", d)
	}
	if time.Until(d.RefreshTokenExpiry) < 500*24*time.Hour {
		t.Errorf("refresh token expiry %v; want about 18 months ahead", d.RefreshTokenExpiry)
	}
	// Then the refresh token works on its own.
	runCLI(t, "force-refresh").want(t, 0)
	if n := f.Mints(ebaytest.GrantRefreshToken); n != 2 {
		t.Errorf("%d refresh_token mints; want 2", n)
	}
	st := runCLI(t, "status").want(t, 0)
	if !strings.Contains(st.stdout, "user") || !strings.Contains(st.stdout, "refresh token:") {
		t.Errorf("status:\n%s", st.stdout)
	}
	f.assertNoSecrets(t, st.stdout, st.stderr, d.LastError, tok.stderr)
	// The store holds no refresh token.
	if raw := readFile(t, f.tokenFile); strings.Contains(raw, rt) {
		t.Error("the token file holds the refresh token")
	}
}

func TestExchangeErrors(t *testing.T) {
	f := newFake(t)
	t.Run("no RuName", func(t *testing.T) {
		r := runCLI(t, "exchange", "code").want(t, 2)
		if !strings.Contains(r.stderr, envRuName) {
			t.Errorf("stderr:\n%s", r)
		}
	})
	t.Setenv(envRuName, ebaytest.RuName)
	t.Run("bad code", func(t *testing.T) {
		r := runCLI(t, "exchange", "v^1.1#not-a-code").want(t, 1)
		if !strings.Contains(r.stderr, "invalid_grant") || !strings.Contains(r.stderr, "consent-url") {
			t.Errorf("stderr:\n%s", r)
		}
	})
	t.Run("declined", func(t *testing.T) {
		r := runCLI(t, "exchange", "https://example.com/accept?error=access_denied&state=x").want(t, 1)
		if !strings.Contains(r.stderr, "access_denied") {
			t.Errorf("stderr:\n%s", r)
		}
	})
	t.Run("URL without code", func(t *testing.T) {
		runCLI(t, "exchange", "https://example.com/accept?state=x").want(t, 2)
	})
	t.Run("stdin and json", func(t *testing.T) {
		code := f.IssueCode()
		r := runStdin(t, code+"\n", "exchange", "-", "--json").want(t, 0)
		var er exchangeResult
		if err := json.Unmarshal([]byte(r.stdout), &er); err != nil {
			t.Fatal(err)
		}
		if er.RefreshToken == "" || er.AccessToken == "" || er.RefreshTokenExpiry.IsZero() {
			t.Errorf("exchange --json: %+v", er)
		}
		// A code works once.
		r = runCLI(t, "exchange", code).want(t, 1)
		f.secret(er.RefreshToken)
		f.assertNoSecrets(t, r.stderr)
	})
}

func TestNoStore(t *testing.T) {
	f := newFake(t)
	r := runCLI(t, "refresh", "--no-store").want(t, 0)
	if !strings.HasPrefix(r.stdout, "refreshed") {
		t.Errorf("refresh --no-store:\n%s", r)
	}
	runCLI(t, "refresh", "--no-store").want(t, 0)
	if n := f.Mints(ebaytest.GrantClientCredentials); n != 2 {
		t.Errorf("%d mints; want 2: memory does not outlive a process", n)
	}
	d := statusJSON(t, 1, "--no-store")
	if d.State != ebayauth.StateNone || d.Store != "memory" {
		t.Errorf("status --no-store: %+v", d)
	}
	if readFileMaybe(f.tokenFile) != "" {
		t.Error("--no-store wrote the token file")
	}
}

func TestStoreFileFlag(t *testing.T) {
	newFake(t)
	other := t.TempDir() + "/other.json"
	runCLI(t, "refresh", "--store-file", other).want(t, 0)
	statusJSON(t, 1) // the default file (EBAY_TOKEN_FILE) has nothing
	if d := statusJSON(t, 0, "--store-file", other); d.Store != "file:"+other {
		t.Errorf("store %q; want file:%s", d.Store, other)
	}
	if _, err := os.Stat(other + ".status.json"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a sidecar status file exists (%v); the store's record is the one place of state", err)
	}
}
