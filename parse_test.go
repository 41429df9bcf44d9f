package ebayauth

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseTokenResponse(t *testing.T) {
	issued := time.Date(2040, 3, 1, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		status     int
		ctype      string
		body       string
		grant      string
		wantToken  *Token
		wantStatus int
		wantCode   string
		wantIs     error
		wantInErr  string
	}{
		{name: "application token", status: 200, grant: GrantClientCredentials,
			body:      `{"access_token":"v^1.1#i^1#t^H4s+/=","expires_in":7200,"token_type":"Application Access Token"}`,
			wantToken: &Token{AccessToken: "v^1.1#i^1#t^H4s+/=", TokenType: "Application Access Token", Expiry: issued.Add(2 * time.Hour)}},
		{name: "old N/A refresh token ignored", status: 200, grant: GrantClientCredentials,
			body:      `{"access_token":"a","expires_in":7200,"refresh_token":"N/A","token_type":"Application Access Token"}`,
			wantToken: &Token{AccessToken: "a", TokenType: "Application Access Token", Expiry: issued.Add(2 * time.Hour)}},
		{name: "refresh grant keeps no refresh token", status: 200, grant: GrantRefreshToken,
			body:      `{"access_token":"a","expires_in":7200,"refresh_token":"r","token_type":"User Access Token"}`,
			wantToken: &Token{AccessToken: "a", TokenType: "User Access Token", Expiry: issued.Add(2 * time.Hour)}},
		{name: "code exchange", status: 200, grant: GrantAuthorizationCode,
			body: `{"access_token":"a","expires_in":7200,"refresh_token":"v^1.1#r","refresh_token_expires_in":47304000,"token_type":"User Access Token"}`,
			wantToken: &Token{AccessToken: "a", TokenType: "User Access Token", Expiry: issued.Add(2 * time.Hour),
				RefreshToken: "v^1.1#r", RefreshTokenExpiry: issued.Add(47304000 * time.Second)}},
		{name: "invalid_grant", status: 400, grant: GrantRefreshToken,
			body:       `{"error":"invalid_grant","error_description":"the provided authorization refresh token is invalid or was issued to another client"}`,
			wantStatus: 400, wantCode: "invalid_grant", wantIs: ErrInvalidGrant, wantInErr: "HTTP 400"},
		{name: "invalid_client", status: 401, grant: GrantClientCredentials,
			body:       `{"error":"invalid_client","error_description":"client authentication failed"}`,
			wantStatus: 401, wantCode: "invalid_client", wantIs: ErrInvalidClient, wantInErr: "client authentication failed"},
		{name: "quota REST envelope", status: 429, grant: GrantClientCredentials,
			body:       `{"errors":[{"errorId":2001,"domain":"ACCESS","category":"REQUEST","message":"Too many requests"}]}`,
			wantStatus: 429, wantCode: "errorId 2001", wantInErr: "Too many requests"},
		{name: "HTML error page", status: 503, ctype: "text/html; charset=utf-8", grant: GrantClientCredentials,
			body: `<html><body>Service Unavailable</body></html>`, wantStatus: 503, wantInErr: "non-JSON answer (text/html"},
		{name: "HTML with 200", status: 200, ctype: "text/html", grant: GrantClientCredentials,
			body: `<html></html>`, wantStatus: 200, wantInErr: "not JSON"},
		{name: "missing access_token", status: 200, body: `{"expires_in":7200}`, wantStatus: 200, wantInErr: "no access_token"},
		{name: "missing expires_in", status: 200, body: `{"access_token":"a"}`, wantStatus: 200, wantInErr: "no expires_in"},
		{name: "zero expires_in", status: 200, body: `{"access_token":"a","expires_in":0}`, wantStatus: 200, wantInErr: "expires_in 0"},
		{name: "error in a 200", status: 200, body: `{"error":"server_error"}`, wantStatus: 200, wantCode: "server_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := parseTokenResponse(tt.status, tt.ctype, []byte(tt.body), issued, tt.grant)
			if tt.wantToken != nil {
				if err != nil {
					t.Fatalf("err = %v; want none", err)
				}
				if *tok != *tt.wantToken {
					t.Errorf("token = %+v; want %+v", *tok, *tt.wantToken)
				}
				return
			}
			var re *RetrieveError
			if !errors.As(err, &re) {
				t.Fatalf("err = %v (%T); want *RetrieveError", err, err)
			}
			if re.StatusCode != tt.wantStatus || re.ErrorCode != tt.wantCode {
				t.Errorf("status, code = %d, %q; want %d, %q", re.StatusCode, re.ErrorCode, tt.wantStatus, tt.wantCode)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.wantIs)
			}
			if !strings.Contains(err.Error(), tt.wantInErr) || !strings.HasPrefix(err.Error(), "ebayauth: ") {
				t.Errorf("err = %q; want it to start with ebayauth: and contain %q", err, tt.wantInErr)
			}
		})
	}
}

func TestExpiryHasNoMonotonicReading(t *testing.T) {
	tok, err := parseTokenResponse(200, "", []byte(`{"access_token":"a","expires_in":7200}`), time.Now(), GrantClientCredentials)
	if err != nil {
		t.Fatal(err)
	}
	// A time with a monotonic reading prints it as "m=+…".
	if s := tok.Expiry.String(); strings.Contains(s, "m=") {
		t.Errorf("Expiry %s carries a monotonic reading; a suspended machine would misjudge it", s)
	}
}

func FuzzParseTokenResponse(f *testing.F) {
	f.Add(200, `{"access_token":"v^1.1#i^1#t^H4s+/=","expires_in":7200,"token_type":"Application Access Token"}`)
	f.Add(200, `{"access_token":"a","expires_in":7200,"refresh_token":"N/A"}`)
	f.Add(400, `{"error":"invalid_grant","error_description":"x"}`)
	f.Add(429, `{"errors":[{"errorId":2001}]}`)
	f.Add(503, `<html>`)
	f.Add(200, `{"access_token":"a","expires_in":-1}`)
	f.Add(200, `{"access_token":"a","expires_in":1e30}`)
	issued := time.Unix(1_800_000_000, 0)
	f.Fuzz(func(t *testing.T, status int, body string) {
		tok, err := parseTokenResponse(status, "application/json", []byte(body), issued, GrantAuthorizationCode)
		if (tok == nil) == (err == nil) {
			t.Fatalf("got token %v and error %v; want exactly one", tok, err)
		}
		if err != nil {
			var re *RetrieveError
			if !errors.As(err, &re) {
				t.Fatalf("err %T; want *RetrieveError", err)
			}
			// The body may hold a token: no error repeats it.
			if len(body) > 8 && strings.Contains(err.Error(), body) {
				t.Fatalf("error %q repeats the body", err)
			}
			return
		}
		if status != 200 || tok.AccessToken == "" || !tok.Expiry.After(issued) {
			t.Fatalf("accepted status %d token %v expiry %v", status, tok, tok.Expiry)
		}
		if tok.RefreshToken == "N/A" {
			t.Fatal("kept refresh_token N/A")
		}
	})
}

func TestHostAllowed(t *testing.T) {
	tests := []struct {
		patterns []string
		host     string
		want     bool
	}{
		{[]string{"*.ebay.com"}, "api.ebay.com", true},
		{[]string{"*.ebay.com"}, "API.Sandbox.eBay.com:443", true},
		{[]string{"*.ebay.com"}, "ebay.com", false},
		{[]string{"*.ebay.com"}, "api.ebay.com.evil.example", false},
		{[]string{"*.ebay.com"}, "notebay.com", false},
		{[]string{"*.ebay.com"}, "evilebay.com", false},
		{[]string{"127.0.0.1:8080"}, "127.0.0.1:8080", true},
		{[]string{"127.0.0.1:8080"}, "127.0.0.1:8081", false},
		{[]string{"127.0.0.1:8080"}, "127.0.0.1", false},
		{[]string{"api.example.com"}, "api.example.com:8443", true},
		{[]string{"api.example.com"}, "api.example.com", true},
		{[]string{"[::1]:9000"}, "[::1]:9000", true},
		{[]string{"[::1]"}, "[::1]:9000", true},
		{[]string{"[::1]:9000"}, "[::1]:9001", false},
		{nil, "api.ebay.com", false},
	}
	for _, tt := range tests {
		hs, err := parseHosts(tt.patterns)
		if err != nil {
			t.Fatalf("parseHosts(%q): %v", tt.patterns, err)
		}
		if got := hs.allows(tt.host); got != tt.want {
			t.Errorf("hostAllowed(%q, %q) = %v; want %v", tt.patterns, tt.host, got, tt.want)
		}
	}
}
