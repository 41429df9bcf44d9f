package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/ebaytest"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const sdkYAML = `name: ebay-config

api.sandbox.ebay.com:
    appid: SandboxApp-SBX-0000-1111
    certid: SBX-sandbox-secret-cert-id
    devid: dev-id-not-used
    redirecturi: Sandbox_RuName-SBX

api.ebay.com:
    appid: ` + ebaytest.ClientID + `
    certid: ` + ebaytest.ClientSecret + `
    devid: dev-id-not-used
    redirecturi: ` + ebaytest.RuName + `
`

func TestConfigFile(t *testing.T) {
	f := newFake(t)
	t.Setenv(envClientID, "")
	t.Setenv(envClientSecret, "")
	path := writeFile(t, "ebay-config.yaml", sdkYAML)

	// Credentials and RuName from the production section.
	runCLI(t, "refresh", "--config", path).want(t, 0)
	r := runCLI(t, "consent-url", "--config", path).want(t, 0)
	if !strings.Contains(r.stdout, "redirect_uri="+ebaytest.RuName) {
		t.Errorf("consent-url with the file's redirecturi:\n%s", r)
	}
	// EBAY_CONFIG names the file too.
	t.Setenv(envConfig, path)
	if d := statusJSON(t, 0); d.ClientID != maskedID(ebaytest.ClientID) {
		t.Errorf("client id %q", d.ClientID)
	}

	// The environment beats the file.
	t.Setenv(envClientID, "Override-PRD-aaaa-bbbb-cccc")
	if d := statusJSON(t, 1); d.ClientID != maskedID("Override-PRD-aaaa-bbbb-cccc") {
		t.Errorf("client id %q; want the environment's", d.ClientID)
	}
	// And a flag beats the environment.
	if d := statusJSON(t, 0, "--client-id", ebaytest.ClientID); d.ClientID != maskedID(ebaytest.ClientID) {
		t.Errorf("client id %q; want the flag's", d.ClientID)
	}
	t.Setenv(envClientID, "")

	// The sandbox section with --env sandbox, on eBay's sandbox (the fake
	// is no sandbox: custom endpoints are all or nothing).
	t.Setenv(envAPIURL, "")
	r = runCLI(t, "consent-url", "--env", "sandbox", "--auth-url", "https://auth.sandbox.ebay.com/oauth2/authorize")
	r.want(t, 0)
	if !strings.HasPrefix(r.stdout, "https://auth.sandbox.ebay.com/oauth2/authorize?") ||
		!strings.Contains(r.stdout, "client_id=SandboxApp-SBX-0000-1111") || !strings.Contains(r.stdout, "redirect_uri=Sandbox_RuName-SBX") {
		t.Errorf("sandbox consent URL:\n%s", r)
	}
	f.assertNoSecrets(t, r.stdout, r.stderr)

	t.Run("missing section", func(t *testing.T) {
		only := writeFile(t, "sandbox-only.yaml", "api.sandbox.ebay.com:\n  appid: a\n  certid: b\n")
		r := runCLI(t, "status", "--config", only).want(t, 2)
		if !strings.Contains(r.stderr, `"api.ebay.com:"`) {
			t.Errorf("stderr:\n%s", r)
		}
	})
	t.Run("unknown keys", func(t *testing.T) {
		for _, tc := range []struct {
			name, yaml string
			from       []string // how the file is named: a flag, or the environment
			want       []string // in the message
		}{
			{"misspelt", "api.ebay.com:\n  app_id: a\n  certid: b\n", []string{"--config"}, []string{"app_id", "appid"}},
			{"several", "api.ebay.com:\n  appid: a\n  cert_id: b\n  redirect_uri: c\n", []string{envConfig}, []string{"cert_id, redirect_uri", "certid"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Setenv(envConfig, "")
				path := writeFile(t, "ebay.yaml", tc.yaml)
				args := []string{"status"}
				if tc.from[0] == envConfig {
					t.Setenv(envConfig, path)
				} else {
					args = append(args, "--config", path)
				}
				r := runCLI(t, args...).want(t, 2)
				for _, want := range append(tc.want, path, tc.from[0], "api.ebay.com") {
					if !strings.Contains(r.stderr, want) {
						t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
					}
				}
			})
		}
	})
	t.Run("keys of eBay's other SDKs", func(t *testing.T) {
		// The Trading SDK's ebay.yaml has more keys, and sections for other
		// APIs: they are not mistakes.
		path := writeFile(t, "ebay.yaml", "name: ebay_api_config\napi.ebay.com:\n  compatability: 719\n  siteid: 0\n  appid: "+
			ebaytest.ClientID+"\n  certid: "+ebaytest.ClientSecret+"\n  devid: d\n  token: AgAAAA**not-used**\n"+
			"svcs.ebay.com:\n  appid: x\n  version: 1.0.0\n")
		t.Setenv(envConfig, "")
		t.Setenv(envAPIURL, f.URL)
		runCLI(t, "status", "--config", path).want(t, 0)
	})
	t.Run("not YAML", func(t *testing.T) {
		bad := writeFile(t, "bad.yaml", "api.ebay.com: [unclosed\n")
		r := runCLI(t, "status", "--config", bad).want(t, 2)
		if !strings.Contains(r.stderr, "not an eBay SDK YAML file") {
			t.Errorf("stderr:\n%s", r)
		}
	})
}

func TestDjangoNames(t *testing.T) {
	f := newFake(t)
	t.Setenv(envClientID, "")
	t.Setenv(envClientSecret, "")
	t.Setenv(djangoAppID, ebaytest.ClientID)
	t.Setenv(djangoCertID, ebaytest.ClientSecret)
	t.Setenv(djangoBufferHours, "0.5")
	r := runCLI(t, "refresh").want(t, 0)
	if r.stderr != "" {
		t.Errorf("no note expected:\n%s", r.stderr)
	}

	// EBAY_PRODUCTION_CLIENT_SECRET is the same setting as the Cert ID.
	t.Setenv(djangoCertID, "")
	t.Setenv(djangoClientSecret, ebaytest.ClientSecret)
	runCLI(t, "status").want(t, 0)

	// Both names, disagreeing: the new one wins and a note says so,
	// without either value.
	t.Setenv(envClientSecret, ebaytest.ClientSecret)
	t.Setenv(djangoClientSecret, f.secret("old-django-secret-0000"))
	t.Setenv(envRefreshBuffer, "45m")
	r = runCLI(t, "force-refresh").want(t, 0)
	for _, want := range []string{
		"EBAY_CLIENT_SECRET and EBAY_PRODUCTION_CLIENT_SECRET disagree; using EBAY_CLIENT_SECRET",
		"EBAY_TOKEN_REFRESH_BUFFER and EBAY_TOKEN_REFRESH_BUFFER_HOURS disagree; using EBAY_TOKEN_REFRESH_BUFFER",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	// Agreeing values in different units are no disagreement.
	t.Setenv(envRefreshBuffer, "1800")
	if r := runCLI(t, "status"); strings.Contains(r.stderr, "BUFFER") {
		t.Errorf("1800 s and 0.5 h agree:\n%s", r.stderr)
	}
	// The fallback under its Django name.
	t.Setenv(djangoUserToken, f.secret("v^1.1#django-user-token=="))
	if d := statusJSON(t, 0); !d.FallbackConfigured {
		t.Error("EBAY_PRODUCTION_USER_TOKEN is not taken as the fallback")
	}
	// The cache timeout is accepted and said to be unneeded.
	t.Setenv(djangoCacheTimeout, "7000")
	if r := runCLI(t, "status"); !strings.Contains(r.stderr, djangoCacheTimeout+" is not needed") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	f.assertNoSecrets(t, r.stdout, r.stderr)
}

func TestLoadSettings(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		args  []string
		check func(t *testing.T, s *settings)
	}{
		{"defaults", nil, nil, func(t *testing.T, s *settings) {
			if s.Environment != "production" || s.Endpoint != ebayauth.Production || s.Custom || !s.RefreshEnabled || s.RefreshBuffer != 0 {
				t.Errorf("%+v", s)
			}
		}},
		{"sandbox", map[string]string{envEnvironment: "Sandbox"}, nil, func(t *testing.T, s *settings) {
			if s.Endpoint != ebayauth.Sandbox {
				t.Errorf("endpoint %+v", s.Endpoint)
			}
		}},
		{"api url derives the others", map[string]string{envAPIURL: "http://127.0.0.1:9/"}, nil, func(t *testing.T, s *settings) {
			want := ebayauth.Endpoint{TokenURL: "http://127.0.0.1:9/identity/v1/oauth2/token", AuthURL: "http://127.0.0.1:9/oauth2/authorize", APIURL: "http://127.0.0.1:9", APIZURL: "http://127.0.0.1:9"}
			if s.Endpoint != want || !s.Custom {
				t.Errorf("endpoint %+v", s.Endpoint)
			}
		}},
		{"token url beside the api url", map[string]string{envTokenURL: "https://proxy.example/token", envAPIURL: "https://api-proxy.example"}, nil,
			func(t *testing.T, s *settings) {
				if s.Endpoint.TokenURL != "https://proxy.example/token" || s.Endpoint.APIURL != "https://api-proxy.example" || !s.Custom {
					t.Errorf("endpoint %+v", s.Endpoint)
				}
			}},
		{"eBay's own URLs are no override", map[string]string{envTokenURL: ebayauth.Production.TokenURL, envAPIURL: ebayauth.Production.APIURL + "/"}, nil,
			func(t *testing.T, s *settings) {
				if s.Endpoint != ebayauth.Production || s.Custom {
					t.Errorf("endpoint %+v, custom %v", s.Endpoint, s.Custom)
				}
			}},
		{"durations", map[string]string{envRefreshBuffer: "90m", envRefreshInterval: "3600", envValidateInterval: "30m", envRefreshEnabled: "False"}, nil,
			func(t *testing.T, s *settings) {
				if s.RefreshBuffer != 90*time.Minute || s.RefreshInterval != time.Hour || s.ValidationInterval != 30*time.Minute || s.RefreshEnabled {
					t.Errorf("%+v", s)
				}
				// Scheduled refresh off: Manager.Run only validates.
				if got := s.config().RefreshEvery; got >= 0 {
					t.Errorf("Config.RefreshEvery = %v with %s=False; want negative", got, envRefreshEnabled)
				}
			}},
		{"refresh interval", map[string]string{envRefreshInterval: "90"}, nil, func(t *testing.T, s *settings) {
			if got := s.config().RefreshEvery; got != 90*time.Second {
				t.Errorf("Config.RefreshEvery = %v; want 1m30s", got)
			}
		}},
		{"Django hours", map[string]string{djangoBufferHours: "2"}, nil, func(t *testing.T, s *settings) {
			if s.RefreshBuffer != 2*time.Hour {
				t.Errorf("buffer %v", s.RefreshBuffer)
			}
		}},
		{"scopes", map[string]string{envScopes: ebayauth.ScopeAPI + ", " + ebayauth.ScopeAPI + "/sell.account"}, nil, func(t *testing.T, s *settings) {
			if len(s.Scopes) != 2 || s.Scopes[1] != ebayauth.ScopeAPI+"/sell.account" {
				t.Errorf("scopes %q", s.Scopes)
			}
		}},
		{"flag over env", map[string]string{envEnvironment: "production"}, []string{"--env", "sandbox"}, func(t *testing.T, s *settings) {
			if s.Environment != "sandbox" || len(s.notes) != 0 {
				t.Errorf("environment %q, notes %q", s.Environment, s.notes)
			}
		}},
		{"seal key", map[string]string{envRedisSealKey: strings.Repeat("ab", 32)}, nil, func(t *testing.T, s *settings) {
			if len(s.RedisSealKey) != 32 {
				t.Errorf("key of %d bytes", len(s.RedisSealKey))
			}
		}},
		{"refresh token expiry date", map[string]string{envRefreshTokenExp: "2037-01-02"}, nil, func(t *testing.T, s *settings) {
			if !s.RefreshTokenExpiry.Equal(time.Date(2037, 1, 2, 0, 0, 0, 0, time.UTC)) {
				t.Errorf("expiry %v", s.RefreshTokenExpiry)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			c := &call{}
			fs, common := newFlagSet(lookupCommand("serve"), c) // serve reads most settings
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			s, err := loadSettings(common)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, s)
		})
	}
}

func TestParseInterspersed(t *testing.T) {
	c := &call{}
	fs, _ := newFlagSet(lookupCommand("exchange"), c)
	pos, err := parseInterspersed(fs, []string{"CODE", "--json", "--", "-not-a-flag"})
	if err != nil {
		t.Fatal(err)
	}
	if !c.json || len(pos) != 2 || pos[0] != "CODE" || pos[1] != "-not-a-flag" {
		t.Errorf("json %v, positional %q", c.json, pos)
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"v^1.1#a+b/c=":  "'v^1.1#a+b/c='",
		"it's":          `'it'\''s'`,
		"$(rm -rf /)":   "'$(rm -rf /)'",
		"":              "''",
		"a b\tc\nd":     "'a b\tc\nd'",
		`back\slash"q"`: `'back\slash"q"'`,
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %q; want %q", in, got, want)
		}
	}
}
