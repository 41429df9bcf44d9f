package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebayauth/ebayauth/internal/syncbuf"
)

// TestServeConsole: serve shows the token console at /, next to
// /healthz, /metrics and /status.
func TestServeConsole(t *testing.T) {
	newFake(t)
	t.Setenv(envConsoleSecret, "")
	s := startServe(t)
	code, body := s.get(t, "/")
	if code != http.StatusOK || !strings.Contains(body, "Application token") || !strings.Contains(body, "Refresh now") {
		t.Fatalf("GET / = %d; want the console:\n%.300s", code, body)
	}
	for _, path := range []string{"/metrics", "/status", "/static/console.css", "/chart.svg"} {
		if code, _ := s.get(t, path); code != http.StatusOK {
			t.Errorf("GET %s = %d; want 200", path, code)
		}
	}
	if code, body := s.get(t, "/healthz"); (code != http.StatusOK && code != http.StatusServiceUnavailable) || !strings.Contains(body, `"healthy"`) {
		t.Errorf("GET /healthz = %d %s; want its health document", code, body) // 503 until the first mint
	}
}

// TestServeConsoleBeyondLoopback: serve refuses to listen beyond loopback
// without the console's admin secret, before it listens.
func TestServeConsoleBeyondLoopback(t *testing.T) {
	for _, listen := range []string{"0.0.0.0:0", ":0", "[::]:0"} {
		t.Run(listen, func(t *testing.T) {
			newFake(t)
			t.Setenv(envConsoleSecret, "")
			var stderr syncbuf.Buffer
			code := run(context.Background(), []string{"serve", "--listen", listen}, strings.NewReader(""), io.Discard, &stderr)
			if code != exitUsage || !strings.Contains(stderr.String(), envConsoleSecret) {
				t.Errorf("serve --listen %s without a secret: exit %d, %s; want 2 naming %s", listen, code, stderr.String(), envConsoleSecret)
			}
		})
	}
}

// TestServeConsoleSecret: with a secret (from a file or the environment)
// the console asks for it; /healthz and /metrics stay open; the secret
// shows nowhere.
func TestServeConsoleSecret(t *testing.T) {
	const secret = "a console secret that is long enough"
	for _, from := range []string{"file", "env"} {
		t.Run(from, func(t *testing.T) {
			newFake(t)
			t.Setenv(envConsoleSecret, "")
			var args []string
			if from == "file" {
				path := filepath.Join(t.TempDir(), "console-secret")
				if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				args = []string{"--console-secret-file", path}
			} else {
				t.Setenv(envConsoleSecret, secret)
			}
			s := startServe(t, args...)
			code, body := s.get(t, "/")
			if code != http.StatusOK || !strings.Contains(body, `type="password"`) || strings.Contains(body, "Refresh now") {
				t.Errorf("GET / = %d; want the login form alone", code)
			}
			// /healthz and /metrics answer without a login (/healthz is
			// 503 until serve's first mint); the console's JSON does not.
			if code, body := s.get(t, "/healthz"); (code != http.StatusOK && code != http.StatusServiceUnavailable) || !strings.Contains(body, `"healthy"`) {
				t.Errorf("GET /healthz = %d %s; want its health document", code, body)
			}
			for path, want := range map[string]int{"/metrics": http.StatusOK, "/api/state": http.StatusUnauthorized} {
				if code, _ := s.get(t, path); code != want {
					t.Errorf("GET %s = %d; want %d", path, code, want)
				}
			}
			s.stop(t)
			if strings.Contains(s.stderr.String(), secret) {
				t.Error("serve logged the console secret")
			}
		})
	}
	t.Run("too short", func(t *testing.T) {
		newFake(t)
		t.Setenv(envConsoleSecret, "short")
		var stderr syncbuf.Buffer
		code := run(context.Background(), []string{"serve", "--listen", "127.0.0.1:0"}, strings.NewReader(""), io.Discard, &stderr)
		if code != exitUsage || !strings.Contains(stderr.String(), "AdminSecret") || strings.Contains(stderr.String(), "short\n") {
			t.Errorf("a short secret: exit %d, %s; want 2", code, stderr.String())
		}
	})
}
