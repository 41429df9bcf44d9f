package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ebayauth/ebayauth/ebaytest"
	"github.com/ebayauth/ebayauth/internal/syncbuf"
)

// fakeEBay is fake-ebay running in the background.
type fakeEBay struct {
	stdout, stderr *syncbuf.Buffer
	vars           map[string]string // what it exported
	done           chan int
	cancel         context.CancelFunc
}

// startFakeEBay runs fake-ebay with args until the test ends, and waits
// until it is ready.
func startFakeEBay(t *testing.T, args ...string) *fakeEBay {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	fe := &fakeEBay{stdout: &syncbuf.Buffer{}, stderr: &syncbuf.Buffer{}, done: make(chan int, 1), cancel: cancel}
	go func() {
		fe.done <- run(ctx, append([]string{"fake-ebay"}, args...), strings.NewReader(""), fe.stdout, fe.stderr)
	}()
	t.Cleanup(func() { fe.stop(t) })
	eventually(t, 10*time.Second, "fake-ebay to be ready", func() bool {
		select {
		case code := <-fe.done:
			t.Fatalf("fake-ebay exited %d:\n%s", code, fe.stderr)
		default:
		}
		return strings.HasSuffix(fe.stdout.String(), fakeReady+"\n")
	})
	fe.vars = parseExports(t, fe.stdout.String())
	return fe
}

// stop ends fake-ebay as SIGINT does and returns its exit status.
func (fe *fakeEBay) stop(t *testing.T) int {
	t.Helper()
	fe.cancel()
	select {
	case code := <-fe.done:
		fe.done <- code // for a second stop
		return code
	case <-time.After(10 * time.Second):
		t.Fatal("fake-ebay did not stop within 10s of its context ending")
		return -1
	}
}

// parseExports reads the export lines of a shell script; every other line
// must be a comment.
func parseExports(t *testing.T, script string) map[string]string {
	t.Helper()
	vars := map[string]string{}
	for _, line := range strings.Split(strings.TrimSuffix(script, "\n"), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		kv, ok := strings.CutPrefix(line, "export ")
		k, v, ok2 := strings.Cut(kv, "=")
		if !ok || !ok2 || len(v) < 2 || v[0] != '\'' || v[len(v)-1] != '\'' || strings.Contains(v[1:len(v)-1], "'") {
			t.Fatalf("not an export of a quoted value: %q", line)
		}
		vars[k] = v[1 : len(v)-1]
	}
	return vars
}

// knob posts to one of fake-ebay's knobs and returns status and body.
func (fe *fakeEBay) knob(t *testing.T, method, pathAndQuery string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, fe.vars[envAPIURL]+pathAndQuery, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestFakeEBay(t *testing.T) {
	clearEnv(t)
	fe := startFakeEBay(t, "--token-lifetime", "10m")
	want := map[string]string{
		envClientID: ebaytest.ClientID, envClientSecret: ebaytest.ClientSecret, envRuName: ebaytest.RuName,
	}
	for k, v := range want {
		if fe.vars[k] != v {
			t.Errorf("%s=%q; want %q", k, fe.vars[k], v)
		}
	}
	for _, k := range []string{envAPIURL, envRefreshToken, envRefreshTokenExp, envTokenFile} {
		if fe.vars[k] == "" {
			t.Errorf("%s not exported:\n%s", k, fe.stdout)
		}
	}
	if !strings.HasPrefix(fe.vars[envAPIURL], "http://127.0.0.1:") {
		t.Errorf("%s=%q; want a loopback URL", envAPIURL, fe.vars[envAPIURL])
	}
	for k, v := range fe.vars {
		t.Setenv(k, v)
	}
	secrets := []string{ebaytest.ClientSecret, fe.vars[envRefreshToken]}

	// The other subcommands work against it: a user token, minted, valid,
	// stored in the fake's own token file, living as --token-lifetime says.
	var outputs []string
	keep := func(r result) result { outputs = append(outputs, r.stdout, r.stderr); return r }
	keep(runCLI(t, "refresh").want(t, 0))
	secrets = append(secrets, strings.TrimSpace(runCLI(t, "token").want(t, 0).stdout))
	keep(runCLI(t, "validate").want(t, 0))
	d := statusJSON(t, 0)
	if d.Kind != "user" || d.Environment != "custom" || d.ExpiresIn > 600 || d.ExpiresIn < 590 || d.Store != "file:"+fe.vars[envTokenFile] || d.RefreshTokenExpiry.IsZero() {
		t.Errorf("status: kind %q, environment %q, expires in %d s, store %q, refresh token expiry %v",
			d.Kind, d.Environment, d.ExpiresIn, d.Store, d.RefreshTokenExpiry)
	}
	r := keep(runCLI(t, "consent-url").want(t, 0))
	if !strings.HasPrefix(r.stdout, fe.vars[envAPIURL]+"/oauth2/authorize?") {
		t.Errorf("consent-url: %s", r.stdout)
	}

	// The knobs.
	for _, tc := range []struct {
		name, method, path string
		code               int
		reply              string
		then               func(t *testing.T)
	}{
		{"revoke-all", "POST", "/_fake/revoke-all", 200, "revoked every access token", func(t *testing.T) {
			r := keep(runCLI(t, "validate").want(t, 1))
			if !strings.Contains(r.stdout, "HTTP 401") {
				t.Errorf("validate after revoke-all:\n%s", r)
			}
			keep(runCLI(t, "refresh").want(t, 0))
		}},
		{"fail-next, retried", "POST", "/_fake/fail-next?n=3", 200, "the next 3 token requests will fail with HTTP 503", func(t *testing.T) {
			// The Manager's client retries a 503 three times.
			keep(runCLI(t, "force-refresh").want(t, 0))
		}},
		{"fail-next until cleared", "POST", "/_fake/fail-next?n=-1&status=502&body=bad+gateway", 200, "every token request until clear-failures will fail with HTTP 502", func(t *testing.T) {
			r := keep(runCLI(t, "force-refresh").want(t, 1))
			if !strings.Contains(r.stderr, "HTTP 502") {
				t.Errorf("force-refresh during the outage:\n%s", r)
			}
		}},
		{"clear-failures", "POST", "/_fake/clear-failures", 200, "answers again", func(t *testing.T) {
			keep(runCLI(t, "force-refresh").want(t, 0))
		}},
		{"token-lifetime", "POST", "/_fake/token-lifetime?d=2m", 200, "live 2m0s", func(t *testing.T) {
			r := keep(runCLI(t, "force-refresh", "--json").want(t, 0))
			var rr refreshResult
			if err := json.Unmarshal([]byte(r.stdout), &rr); err != nil {
				t.Fatal(err)
			}
			if rr.ExpiresIn > 120 || rr.ExpiresIn < 110 {
				t.Errorf("the new token expires in %d s; want 2m", rr.ExpiresIn)
			}
		}},
		{"latency", "POST", "/_fake/latency?d=0s", 200, "0s late", nil},
		{"revoke-refresh-token", "POST", "/_fake/revoke-refresh-token", 200, "invalid_grant", func(t *testing.T) {
			r := keep(runCLI(t, "force-refresh").want(t, 1))
			if !strings.Contains(r.stderr, "invalid_grant") {
				t.Errorf("force-refresh with a revoked refresh token:\n%s", r)
			}
		}},
		{"index", "GET", "/_fake/", 200, "POST /_fake/fail-next", nil},
		{"GET of a knob", "GET", "/_fake/revoke-all", 405, "", nil},
		{"unknown knob", "POST", "/_fake/explode", 404, "", nil},
		{"bad n", "POST", "/_fake/fail-next?n=0", 400, "n=", nil},
		{"bad status", "POST", "/_fake/fail-next?status=200", 400, "status=", nil},
		{"bad duration", "POST", "/_fake/token-lifetime?d=soon", 400, "d=", nil},
		{"short lifetime", "POST", "/_fake/token-lifetime?d=10ms", 400, "at least 1s", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := fe.knob(t, tc.method, tc.path)
			if code != tc.code || !strings.Contains(body, tc.reply) {
				t.Fatalf("%s %s: got %d %q; want %d with %q", tc.method, tc.path, code, body, tc.code, tc.reply)
			}
			if tc.then != nil {
				tc.then(t)
			}
		})
	}

	dir := filepath.Dir(fe.vars[envTokenFile])
	if code := fe.stop(t); code != 0 {
		t.Errorf("fake-ebay exited %d after its context ended; want 0\n%s", code, fe.stderr)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the token file's directory %s is left behind (%v)", dir, err)
	}
	if _, err := http.Get(fe.vars[envAPIURL] + "/_fake/"); err == nil {
		t.Error("the fake still answers after fake-ebay stopped")
	}
	assertNoSecrets(t, secrets, append(outputs, fe.stderr.String())...)
}

func TestFakeEBayListen(t *testing.T) {
	clearEnv(t)
	t.Run("fixed port", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		fe := startFakeEBay(t, "--listen", "127.0.0.1:"+strconv.Itoa(port))
		if want := "http://127.0.0.1:" + strconv.Itoa(port); fe.vars[envAPIURL] != want {
			t.Errorf("%s=%q; want %q", envAPIURL, fe.vars[envAPIURL], want)
		}
	})
	t.Run("localhost", func(t *testing.T) {
		fe := startFakeEBay(t, "--listen", "localhost:0")
		if code, _ := fe.knob(t, "GET", "/_fake/"); code != http.StatusOK {
			t.Errorf("GET /_fake/: %d", code)
		}
	})
	t.Run("port in use", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		r := runCLI(t, "fake-ebay", "--listen", ln.Addr().String()).want(t, exitFailure)
		if !strings.Contains(r.stderr, "--listen") || r.stdout != "" {
			t.Errorf("fake-ebay on a port in use:\n%s", r)
		}
	})
	for _, tc := range []struct {
		name, addr, want string
	}{
		{"every interface", ":0", "loopback only"},
		{"unspecified", "0.0.0.0:8080", "loopback only"},
		{"another host", "192.0.2.1:8080", "loopback only"},
		{"a name", "example.com:8080", "loopback only"},
		{"no port", "127.0.0.1", "not host:port"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, "fake-ebay", "--listen", tc.addr).want(t, exitUsage)
			if !strings.Contains(r.stderr, tc.want) || !strings.Contains(r.stderr, "--listen") || r.stdout != "" {
				t.Errorf("got %q; want a --listen error with %q", r.stderr, tc.want)
			}
		})
	}
	if r := runCLI(t, "fake-ebay", "--token-lifetime", "10ms").want(t, exitUsage); !strings.Contains(r.stderr, "--token-lifetime") {
		t.Errorf("stderr: %q", r.stderr)
	}
}

// TestFakeEBayHelp: fake-ebay --help documents every knob it serves.
func TestFakeEBayHelp(t *testing.T) {
	clearEnv(t)
	help := runCLI(t, "fake-ebay", "--help").want(t, 0).stdout
	fe := startFakeEBay(t)
	_, index := fe.knob(t, "GET", "/_fake/")
	for _, knob := range []string{"revoke-all", "revoke-refresh-token", "fail-next", "clear-failures", "token-lifetime", "latency"} {
		path := "/_fake/" + knob
		if !strings.Contains(help, "POST "+path) || !strings.Contains(index, "POST "+path) {
			t.Errorf("help or the index lacks POST %s", path)
		}
		// Each is served: a GET is refused for its method, not as unknown.
		if code, _ := fe.knob(t, "GET", path); code != http.StatusMethodNotAllowed {
			t.Errorf("GET %s: %d; want 405", path, code)
		}
	}
}
