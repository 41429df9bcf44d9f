package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/ebaytest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// clearEnv blanks every variable the command reads (blank counts as unset),
// so that a developer's real eBay credentials never reach a test, and points
// the default token file at a temporary directory.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, n := range allEnv {
		t.Setenv(n, "")
	}
	for _, n := range []string{envListen, envWebhook, envWebhookSecret} {
		t.Setenv(n, "")
	}
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
}

// fake starts a fake eBay and configures the environment for it: its
// credentials, its URL, and a token file of the test's own.
type fake struct {
	*ebaytest.Server
	tokenFile string
	secrets   []string // every credential the test knows of
}

func newFake(t *testing.T) *fake {
	t.Helper()
	clearEnv(t)
	srv := ebaytest.NewServer()
	t.Cleanup(srv.Close)
	f := &fake{Server: srv, tokenFile: filepath.Join(t.TempDir(), "tokens.json"), secrets: []string{ebaytest.ClientSecret}}
	t.Setenv(envClientID, ebaytest.ClientID)
	t.Setenv(envClientSecret, ebaytest.ClientSecret)
	t.Setenv(envAPIURL, srv.URL)
	t.Setenv(envTokenFile, f.tokenFile)
	return f
}

// secret remembers s as a credential that must not appear in output.
func (f *fake) secret(s string) string {
	f.secrets = append(f.secrets, s)
	return s
}

// accessTokens are every access token the fake issued that the test saw:
// the ones REST requests carried and the last one minted.
func (f *fake) allSecrets() []string {
	out := append([]string(nil), f.secrets...)
	for _, h := range f.AuthHeaders() {
		if tok, ok := strings.CutPrefix(h, "Bearer "); ok && tok != "" {
			out = append(out, tok)
		}
	}
	if tok := f.LastIssued(); tok != "" {
		out = append(out, tok)
	}
	return out
}

// assertNoSecrets fails if any credential the fake knows appears in texts,
// raw or URL-encoded.
func (f *fake) assertNoSecrets(t *testing.T, texts ...string) {
	t.Helper()
	assertNoSecrets(t, f.allSecrets(), texts...)
}

// assertNoSecrets fails if any of secrets appears in texts, raw or
// URL-encoded.
func assertNoSecrets(t *testing.T, secrets []string, texts ...string) {
	t.Helper()
	for _, s := range secrets {
		if s == "" {
			continue
		}
		for i, text := range texts {
			if strings.Contains(text, s) || strings.Contains(text, url.QueryEscape(s)) {
				t.Errorf("output %d holds a credential (fingerprint of the leak: %.12s…):\n%s", i, s[:min(len(s), 8)], text)
			}
		}
	}
}

// result is the outcome of one run.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return "exit " + strconv.Itoa(r.code) + "\nstdout:\n" + r.stdout + "\nstderr:\n" + r.stderr
}

// runCLI runs the command line with empty standard input.
func runCLI(t *testing.T, args ...string) result {
	t.Helper()
	return runStdin(t, "", args...)
}

func runStdin(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := run(ctx, args, strings.NewReader(stdin), &stdout, &stderr)
	return result{code, stdout.String(), stderr.String()}
}

// want checks the exit status.
func (r result) want(t *testing.T, code int) result {
	t.Helper()
	if r.code != code {
		t.Fatalf("got exit %d; want %d\n%s", r.code, code, r)
	}
	return r
}

// eventually polls cond every 10 ms until it holds or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		timer := time.NewTimer(10 * time.Millisecond)
		<-timer.C
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func readFileMaybe(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// fingerprint is how the command shows the access token s.
func fingerprint(s string) string { return (&ebayauth.Token{AccessToken: s}).Fingerprint() }

// maskedID is how the command shows a client id: its first and last four
// characters.
func maskedID(id string) string { return id[:4] + "…" + id[len(id)-4:] }

// ageRecords moves every record in the token file d into the past, as if
// its token had been minted d earlier: the way to put a token inside its
// refresh window for a process that runs on the real clock.
func ageRecords(t *testing.T, path string, d time.Duration) {
	t.Helper()
	var file struct {
		Records map[string]*ebayauth.Record `json:"records"`
	}
	if err := json.Unmarshal([]byte(readFile(t, path)), &file); err != nil || len(file.Records) == 0 {
		t.Fatalf("token file %s: %v, %d records", path, err, len(file.Records))
	}
	for _, rec := range file.Records {
		rec.Minted = rec.Minted.Add(-d)
		rec.Token.Expiry = rec.Token.Expiry.Add(-d)
	}
	b, err := json.Marshal(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
