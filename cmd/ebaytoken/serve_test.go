package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ebayauth/ebayauth/internal/syncbuf"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/webhook"
)

// served is a serve subcommand running in the background.
type served struct {
	base   string
	stderr *syncbuf.Buffer
	done   chan int
	cancel context.CancelFunc
	code   int
}

// startServe runs serve on a free loopback port and waits until it listens.
func startServe(t *testing.T, args ...string) *served {
	t.Helper()
	return startServeTweaked(t, nil, args...)
}

// startServeTweaked is startServe with a tweak of the call, if not nil.
func startServeTweaked(t *testing.T, tweak func(*call), args ...string) *served {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &served{stderr: &syncbuf.Buffer{}, done: make(chan int, 1), cancel: cancel, code: -1}
	var tweaks []func(*call)
	if tweak != nil {
		tweaks = append(tweaks, tweak)
	}
	go func() {
		s.done <- run(ctx, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...), strings.NewReader(""), io.Discard, s.stderr, tweaks...)
	}()
	t.Cleanup(func() { s.stop(t) })
	eventually(t, 10*time.Second, "serve to listen", func() bool {
		select {
		case code := <-s.done:
			s.code = code
			t.Fatalf("serve exited with %d:\n%s", code, s.stderr)
		default:
		}
		for _, rec := range s.logs(t) {
			if rec["msg"] == "ebaytoken: serving" {
				s.base = rec["addr"].(string)
				return true
			}
		}
		return false
	})
	return s
}

// stop cancels serve's context, as SIGTERM does, and waits for its exit.
func (s *served) stop(t *testing.T) int {
	t.Helper()
	if s.code >= 0 {
		return s.code
	}
	s.cancel()
	select {
	case s.code = <-s.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("serve did not stop within 10s of its context ending:\n%s", s.stderr)
	}
	return s.code
}

// logs parses serve's stderr, which must be JSON lines.
func (s *served) logs(t *testing.T) []map[string]any {
	t.Helper()
	var recs []map[string]any
	sc := bufio.NewScanner(strings.NewReader(s.stderr.String()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("serve logged a line that is not JSON: %q", sc.Text())
		}
		recs = append(recs, rec)
	}
	return recs
}

// get fetches path and returns status and body.
func (s *served) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(s.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func (s *served) health(t *testing.T) (int, healthDoc) {
	t.Helper()
	code, body := s.get(t, "/healthz")
	var h healthDoc
	if err := json.Unmarshal([]byte(body), &h); err != nil {
		t.Fatalf("/healthz body %q: %v", body, err)
	}
	return code, h
}

// metrics scrapes /metrics and parses it with expfmt, as Prometheus does.
func (s *served) metrics(t *testing.T) map[string]float64 {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.base+"/metrics", nil)
	req.Header.Set("Accept", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %s", resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	out := map[string]float64{}
	for name, fam := range fams {
		for _, m := range fam.GetMetric() {
			key := name + labelString(m.GetLabel())
			switch {
			case m.Counter != nil:
				out[key] = m.GetCounter().GetValue()
			case m.Gauge != nil:
				out[key] = m.GetGauge().GetValue()
			case m.Histogram != nil:
				out[key+"_count"] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}

func labelString(ls []*dto.LabelPair) string {
	if len(ls) == 0 {
		return ""
	}
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = fmt.Sprintf("%s=%q", l.GetName(), l.GetValue())
	}
	sort.Strings(parts)
	return "{" + strings.Join(parts, ",") + "}"
}

// hookServer receives webhook alerts and checks their signatures.
type hookServer struct {
	*httptest.Server
	secret []byte
	alerts chan map[string]any

	mu     sync.Mutex
	bodies []string
}

func newHookServer(t *testing.T, secret string) *hookServer {
	t.Helper()
	h := &hookServer{secret: []byte(secret), alerts: make(chan map[string]any, 100)}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("webhook: %v", err)
			return
		}
		h.mu.Lock()
		h.bodies = append(h.bodies, string(body))
		h.mu.Unlock()
		mac := hmac.New(sha256.New, h.secret)
		mac.Write([]byte(r.Header.Get(webhook.TimestampHeader) + "."))
		mac.Write(body)
		want := "v1=" + hex.EncodeToString(mac.Sum(nil))
		got := r.Header.Get(webhook.SignatureHeader)
		if err := webhook.Verify(h.secret, r.Header, body); got != want || err != nil {
			t.Errorf("webhook signature %q; want %q", got, want)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var alert map[string]any
		if err := json.Unmarshal(body, &alert); err != nil {
			t.Errorf("webhook body is not JSON: %v", err)
		}
		select {
		case h.alerts <- alert:
		default:
			t.Errorf("too many alerts")
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(h.Close)
	return h
}

// waitAlert waits for an alert of the kind, skipping others.
func (h *hookServer) waitAlert(t *testing.T, kind string) map[string]any {
	t.Helper()
	timeout := time.After(15 * time.Second)
	for {
		select {
		case a := <-h.alerts:
			if a["kind"] == kind {
				return a
			}
		case <-timeout:
			t.Fatalf("no %s alert within 15s", kind)
		}
	}
}

func (h *hookServer) allBodies() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return strings.Join(h.bodies, "\n")
}

func TestServe(t *testing.T) {
	f := newFake(t)
	rt := f.secret(f.IssueRefreshToken())
	t.Setenv(envRefreshToken, rt)
	rtExpiry := time.Now().Add(10 * 24 * time.Hour).UTC().Truncate(time.Second)
	t.Setenv(envRefreshTokenExp, rtExpiry.Format(time.RFC3339))
	const secret = "webhook-signing-secret-0123"
	t.Setenv(envWebhookSecret, f.secret(secret))
	hook := newHookServer(t, secret)

	s := startServe(t, "--webhook", hook.URL, "--validation-interval", "1s", "--source", "test-daemon")

	// The daemon mints at start; /healthz turns 200.
	var h healthDoc
	eventually(t, 10*time.Second, "/healthz 200", func() bool {
		code, doc := s.health(t)
		h = doc
		return code == http.StatusOK
	})
	if !h.Healthy || h.State != ebayauth.StateFresh || h.Fingerprint != fingerprint(f.LastIssued()) || h.ExpiresIn < 7000 {
		t.Errorf("/healthz %+v", h)
	}

	// The refresh token expires within 30 days: an alert at start.
	a := hook.waitAlert(t, "refresh_token_expiring")
	if a["source"] != "test-daemon" || a["days_left"] != float64(9) && a["days_left"] != float64(10) {
		t.Errorf("refresh_token_expiring alert %v", a)
	}

	// Metrics, parsed as Prometheus parses them.
	var m map[string]float64
	eventually(t, 10*time.Second, "a validation", func() bool {
		m = s.metrics(t)
		return m[`ebayauth_validations_total{result="valid"}`] >= 1
	})
	for name, want := range map[string]float64{
		`ebayauth_refreshes_total{result="success"}`:      1,
		`ebayauth_healthy`:                                1,
		`ebayauth_fallback_in_use`:                        0,
		`ebayauth_store_healthy`:                          1,
		`ebayauth_mints_today`:                            1,
		`ebayauth_daily_mint_limit`:                       userMintLimit,
		`ebayauth_token_state{state="fresh"}`:             1,
		`ebayauth_token_state{state="none"}`:              0,
		`ebayauth_refresh_token_expiry_timestamp_seconds`: float64(rtExpiry.Unix()),
		`ebayauth_refresh_duration_seconds_count`:         1,
	} {
		if got, ok := m[name]; !ok || got != want {
			t.Errorf("%s = %v (present %v); want %v", name, got, ok, want)
		}
	}
	if exp := m["ebayauth_token_expiry_timestamp_seconds"]; math.Abs(exp-float64(h.Expiry.Unix())) > 1 {
		t.Errorf("token expiry metric %v; want %v", exp, h.Expiry.Unix())
	}

	// /status is the status --json document of the live Manager.
	code, body := s.get(t, "/status")
	var d statusDoc
	if err := json.Unmarshal([]byte(body), &d); err != nil || code != http.StatusOK {
		t.Fatalf("/status %d %q: %v", code, body, err)
	}
	if d.Source != "process" || d.Kind != "user" || d.State != ebayauth.StateFresh || !d.RefreshTokenExpiring ||
		!d.RefreshTokenExpiry.Equal(rtExpiry) || d.Counters.Mints != 1 || len(d.Warnings) == 0 {
		t.Errorf("/status %+v", d)
	}

	// Another shell: status reads the daemon's token from the store.
	// The daemon writes its history for it in the background.
	var sd statusDoc
	eventually(t, 10*time.Second, "status to show the daemon's validation", func() bool {
		sd = statusJSON(t, 0)
		return !sd.LastValidation.IsZero()
	})
	if sd.Fingerprint != h.Fingerprint || sd.Source != "store" || sd.LastRefresh.IsZero() {
		t.Errorf("status beside serve: %+v", sd)
	}

	// eBay revokes the token: validation fails, alerts, and the daemon
	// mints a new one.
	first := f.LastIssued()
	f.RevokeAll()
	a = hook.waitAlert(t, "validation_failed")
	if e, _ := a["error"].(string); !strings.Contains(e, "1001") {
		t.Errorf("validation_failed alert %v", a)
	}
	eventually(t, 10*time.Second, "a new token", func() bool {
		_, doc := s.health(t)
		return doc.Healthy && doc.Fingerprint != fingerprint(first)
	})
	// The Manager adopts a token before it reports it: wait for the event.
	eventually(t, 10*time.Second, "metrics of the revocation", func() bool {
		m = s.metrics(t)
		return m[`ebayauth_validations_total{result="invalid"}`] >= 1 && m[`ebayauth_refreshes_total{result="success"}`] >= 2
	})
	_, metricsText := s.get(t, "/metrics")
	_, statusText := s.get(t, "/status")
	_, healthText := s.get(t, "/healthz")

	// Graceful shutdown when the context ends (SIGINT/SIGTERM in main).
	start := time.Now()
	if code := s.stop(t); code != 0 {
		t.Errorf("serve exited %d after its context ended; want 0\n%s", code, s.stderr)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("shutdown took %v", took)
	}
	var msgs []string
	for _, rec := range s.logs(t) {
		msgs = append(msgs, fmt.Sprint(rec["msg"]))
	}
	for _, want := range []string{"ebayauth: token refreshed", "ebaytoken: shutting down", "ebaytoken: stopped"} {
		if !strings.Contains(strings.Join(msgs, "\n"), want) {
			t.Errorf("logs lack %q: %q", want, msgs)
		}
	}
	f.assertNoSecrets(t, s.stderr.String(), metricsText, statusText, healthText, hook.allBodies())
}

// TestServeMetricsLint: serve's /metrics passes promtool's checks (the
// same linter, promlint, on the text Prometheus scrapes) and carries the
// Go runtime's and the process's standard metrics beside ebayauth's.
func TestServeMetricsLint(t *testing.T) {
	f := newFake(t)
	t.Setenv(envFallback, f.secret("v^1.1#fallback+token/=="))
	s := startServe(t)
	eventually(t, 10*time.Second, "a token", func() bool {
		code, _ := s.health(t)
		return code == http.StatusOK
	})
	req, _ := http.NewRequest(http.MethodGet, s.base+"/metrics", nil)
	req.Header.Set("Accept", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	problems, err := promlint.New(bytes.NewReader(body)).Lint()
	if err != nil {
		t.Fatalf("/metrics: %v", err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
	m := s.metrics(t)
	for _, name := range []string{"go_goroutines", "go_info", "process_start_time_seconds", "ebayauth_healthy",
		"ebayauth_fallback_uses_total", "ebayauth_store_errors_total", "ebayauth_store_hits_total"} {
		found := false
		for k := range m {
			if k == name || strings.HasPrefix(k, name+"{") {
				found = true
			}
		}
		if !found {
			t.Errorf("/metrics lacks %s", name)
		}
	}
}

func TestServeUnhealthy(t *testing.T) {
	f := newFake(t)
	const secret = "s3cret-for-hmac"
	hook := newHookServer(t, secret)
	f.FailNext(-1, http.StatusServiceUnavailable, "<html>down</html>")
	s := startServe(t, "--webhook", hook.URL, "--webhook-secret-file", writeFile(t, "secret", f.secret(secret)+"\n"))

	a := hook.waitAlert(t, "refresh_failed")
	if e, _ := a["error"].(string); !strings.Contains(e, "HTTP 503") {
		t.Errorf("refresh_failed alert %v", a)
	}
	code, h := s.health(t)
	if code != http.StatusServiceUnavailable || h.Healthy || h.State != ebayauth.StateNone || !strings.Contains(h.Reason, "HTTP 503") {
		t.Errorf("/healthz %d %+v; want 503 with the reason", code, h)
	}
	if m := s.metrics(t); m[`ebayauth_refreshes_total{result="failure"}`] < 1 || m["ebayauth_healthy"] != 0 {
		t.Errorf("metrics: %v", m)
	}

	// The identity endpoint recovers: so does the daemon, and it says so.
	f.ClearFailures()
	hook.waitAlert(t, "recovered")
	eventually(t, 10*time.Second, "/healthz 200", func() bool {
		code, _ := s.health(t)
		return code == http.StatusOK
	})
	if code := s.stop(t); code != 0 {
		t.Errorf("exit %d", code)
	}
	f.assertNoSecrets(t, s.stderr.String(), hook.allBodies())
}

func TestServeRefreshDisabled(t *testing.T) {
	f := newFake(t)
	t.Setenv(envRefreshEnabled, "false")
	runCLI(t, "refresh").want(t, 0) // a token minted elsewhere
	s := startServe(t, "--validation-interval", "1s")
	if code, h := s.health(t); code != http.StatusOK && h.Reason != "no token yet" {
		t.Errorf("/healthz %d %+v", code, h)
	}
	// No scheduled refresh: the first validation takes the stored token.
	eventually(t, 10*time.Second, "/healthz 200", func() bool {
		code, _ := s.health(t)
		return code == http.StatusOK
	})
	if n := f.Mints("client_credentials"); n != 1 {
		t.Errorf("%d mints; want only the refresh command's", n)
	}
	// The token is adopted before the validation's probe ends.
	eventually(t, 10*time.Second, "the validation's metrics", func() bool {
		m := s.metrics(t)
		return m[`ebayauth_store_hits_total`] == 1 && m[`ebayauth_validations_total{result="valid"}`] >= 1
	})
}

func TestServeErrors(t *testing.T) {
	newFake(t)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"bad webhook", []string{"--webhook", "not a url"}, 2, "--webhook"},
		{"secret file without webhook", []string{"--webhook-secret-file", "/nonexistent"}, 2, "--webhook-secret-file: no --webhook to sign for"},
		{"bad listen address", []string{"--listen", "256.0.0.1:bad"}, 2, "--listen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"serve"}, tt.args...)
			if tt.name != "bad listen address" {
				args = append(args, "--listen", "127.0.0.1:0")
			}
			r := runCLI(t, args...).want(t, tt.code)
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, r)
			}
		})
	}
}

// deadURL is the URL of a receiver that is gone: connections to it are
// refused.
func deadURL(t *testing.T, path string) string {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL + path
	srv.Close()
	return u
}

// TestServeWebhookURLsRedacted: a webhook URL often carries its secret in
// its path or query (Slack, Discord) or its user info: serve shows only
// its scheme and host, in its startup line, its delivery errors, /status
// and its usage errors.
func TestServeWebhookURLsRedacted(t *testing.T) {
	t.Run("running", func(t *testing.T) {
		f := newFake(t)
		f.FailNext(-1, http.StatusServiceUnavailable, "down") // a refresh_failed alert at once
		dead := deadURL(t, "/services/T000/B000/SECRETPATH?token=SECRETQUERY")
		withUser := strings.Replace(deadURL(t, "/x"), "http://", "http://user:SECRETPASS@", 1)
		s := startServe(t, "-v", "--webhook", dead, "--webhook", withUser)
		// Delivery fails: net/http's error (a *url.Error) quotes the URL.
		eventually(t, 10*time.Second, "a failed delivery to each webhook", func() bool {
			return strings.Count(s.stderr.String(), `"msg":"webhook: retrying"`) >= 2
		})
		want := []string{hostURL(dead) + "/…", hostURL(withUser) + "/…"}
		for _, rec := range s.logs(t) {
			if rec["msg"] == "ebaytoken: serving" {
				if got := fmt.Sprint(rec["webhooks"]); got != fmt.Sprint(want) {
					t.Errorf("startup line's webhooks %q; want %q", got, fmt.Sprint(want))
				}
			}
		}
		code, status := s.get(t, "/status")
		var d statusDoc
		if err := json.Unmarshal([]byte(status), &d); err != nil || code != http.StatusOK {
			t.Fatalf("/status %d %q: %v", code, status, err)
		}
		if len(d.Webhooks) != 2 || d.Webhooks[0].Receiver != want[0] || d.Webhooks[1].Receiver != want[1] ||
			!strings.Contains(d.Webhooks[0].LastError, "connection refused") {
			t.Errorf("/status webhooks %+v; want %q with their errors", d.Webhooks, want)
		}
		s.stop(t)
		for i, text := range []string{s.stderr.String(), status} {
			if strings.Contains(text, "SECRET") {
				t.Errorf("output %d shows a webhook URL's secret:\n%s", i, text)
			}
		}
	})

	for _, tc := range []struct {
		name, url, want string
	}{
		{"ftp", "ftp://hooks.example.com/services/SECRETPATH", `"ftp://hooks.example.com/…": scheme is not http or https`},
		{"no scheme", "hooks.example.com/services/SECRETPATH", `"…": scheme is not http or https`},
		{"no host", "https:///services/SECRETPATH", `"https://…": no host`},
		{"control character", "https://hooks.example.com/\x7fSECRETPATH", `"https://hooks.example.com/…": net/url: invalid control character in URL`},
		{"bad port", "https://user:SECRETPASS@hooks.example.com:x/services/SECRETPATH", `"https://hooks.example.com:x/…": invalid port`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			newFake(t)
			r := runCLI(t, "serve", "--listen", "127.0.0.1:0", "--webhook", tc.url).want(t, exitUsage)
			if !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr %q; want it to hold %q", r.stderr, tc.want)
			}
			if strings.Contains(r.stderr, "SECRET") {
				t.Errorf("stderr shows the webhook URL's secret: %q", r.stderr)
			}
		})
	}
}

// hostURL cuts u to scheme and host.
func hostURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		panic(err)
	}
	return u.Scheme + "://" + u.Host
}

// rawRequest writes a GET of path with header to conn, and reads the answer
// from br.
func rawRequest(t *testing.T, conn net.Conn, br *bufio.Reader, path string, header map[string]string) *http.Response {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: ebaytoken\r\n", path)
	for k, v := range header {
		fmt.Fprintf(&b, "%s: %s\r\n", k, v)
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(conn, b.String()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func dial(t *testing.T, base string) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn, bufio.NewReader(conn)
}

// TestServeIdleTimeout: the server closes a keep-alive connection that
// stays idle. The other timeouts are an hour, so that only the idle one
// can close it.
func TestServeIdleTimeout(t *testing.T) {
	newFake(t)
	s := startServeTweaked(t, func(c *call) {
		c.serve.limits = httpLimits{readHeader: time.Hour, read: time.Hour, write: time.Hour,
			idle: 50 * time.Millisecond, maxHeaderBytes: 1 << 20}
	})
	conn, br := dial(t, s.base)
	if resp := rawRequest(t, conn, br, "/", nil); resp.StatusCode != http.StatusOK || resp.Close {
		t.Fatalf("GET / = %s (close %v); want 200 on a kept-alive connection", resp.Status, resp.Close)
	}
	// The server closes the connection: reading ends. The deadline is a
	// hang guard, an hour shorter than the other timeouts.
	if err := conn.SetReadDeadline(time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	b, err := br.ReadByte()
	var ne net.Error
	switch {
	case err == nil:
		t.Fatalf("read %q on an idle connection; want it closed", b)
	case errors.As(err, &ne) && ne.Timeout():
		t.Fatal("the server kept an idle keep-alive connection open")
	}
}

// TestServeHeaderLimit: an oversized header gets 431, with the limits
// serve runs with.
func TestServeHeaderLimit(t *testing.T) {
	newFake(t)
	s := startServe(t)
	for _, tc := range []struct {
		name string
		size int
		want int
	}{
		{"small", 100, http.StatusOK},
		{"within the limit", defaultHTTPLimits.maxHeaderBytes / 2, http.StatusOK},
		{"oversized", 2 * defaultHTTPLimits.maxHeaderBytes, http.StatusRequestHeaderFieldsTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, br := dial(t, s.base)
			resp := rawRequest(t, conn, br, "/", map[string]string{"X-Big": strings.Repeat("a", tc.size)})
			if resp.StatusCode != tc.want {
				t.Errorf("got %q; want %d", resp.Status, tc.want)
			}
		})
	}
}

// TestServeLimitsDefaults: serve's server has every limit set.
func TestServeLimitsDefaults(t *testing.T) {
	srv := newHTTPServer(http.NotFoundHandler(), slog.New(slog.DiscardHandler), httpLimits{})
	for _, tc := range []struct {
		name string
		got  time.Duration
	}{
		{"ReadHeaderTimeout", srv.ReadHeaderTimeout},
		{"ReadTimeout", srv.ReadTimeout},
		{"WriteTimeout", srv.WriteTimeout},
		{"IdleTimeout", srv.IdleTimeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got <= 0 || tc.got > 2*time.Minute {
				t.Errorf("got %v; want a bound of at most 2m", tc.got)
			}
		})
	}
	if srv.MaxHeaderBytes <= 0 || srv.MaxHeaderBytes >= http.DefaultMaxHeaderBytes {
		t.Errorf("MaxHeaderBytes %d; want below net/http's default %d", srv.MaxHeaderBytes, http.DefaultMaxHeaderBytes)
	}
}

// TestServeWebhookSecret: the secret that signs alerts comes from the
// environment or a file, never from a flag, which ps shows.
func TestServeWebhookSecret(t *testing.T) {
	for _, tc := range []struct {
		name       string
		env        string // EBAY_WEBHOOK_SECRET
		file       string // the content of --webhook-secret-file, if not empty
		want       string // the secret alerts are signed with
		wantWarned bool
	}{
		{name: "environment", env: "env-secret-0123", want: "env-secret-0123"},
		{name: "file", file: "file-secret-0123\n", want: "file-secret-0123"},
		{name: "file without newline", file: "file-secret-0123", want: "file-secret-0123"},
		{name: "file with CRLF", file: "file-secret-0123\r\n", want: "file-secret-0123"},
		{name: "file over environment", env: "env-secret-0123", file: "file-secret-0123\n", want: "file-secret-0123", wantWarned: true},
		{name: "file and environment agree", env: "same-secret-0123", file: "same-secret-0123\n", want: "same-secret-0123"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			t.Setenv(envWebhookSecret, f.secret(tc.env))
			hook := newHookServer(t, f.secret(tc.want)) // refuses alerts signed otherwise
			f.FailNext(-1, http.StatusServiceUnavailable, "down")
			args := []string{"--webhook", hook.URL}
			if tc.file != "" {
				args = append(args, "--webhook-secret-file", writeFile(t, "secret", tc.file))
			}
			s := startServe(t, args...)
			hook.waitAlert(t, "refresh_failed")
			s.stop(t)
			warned := strings.Contains(s.stderr.String(), "--webhook-secret-file and "+envWebhookSecret+" disagree")
			if warned != tc.wantWarned {
				t.Errorf("warned of a disagreement: %v; want %v\n%s", warned, tc.wantWarned, s.stderr)
			}
			f.assertNoSecrets(t, s.stderr.String(), hook.allBodies())
		})
	}
}

func TestServeWebhookSecretErrors(t *testing.T) {
	const secret = "SECRETVALUE-0123"
	for _, tc := range []struct {
		name string
		env  string
		args []string
		want string
	}{
		{name: "removed flag", args: []string{"--webhook", "http://127.0.0.1:1/", "--webhook-secret", secret},
			want: "--webhook-secret was removed: flags show in ps; set " + envWebhookSecret + " or use --webhook-secret-file PATH"},
		{name: "removed flag with =", args: []string{"--webhook", "http://127.0.0.1:1/", "--webhook-secret=" + secret},
			want: "--webhook-secret was removed"},
		{name: "removed flag last", args: []string{"--webhook", "http://127.0.0.1:1/", "--webhook-secret"},
			want: "--webhook-secret was removed"},
		{name: "removed flag alone", args: []string{"-webhook-secret", secret}, want: "--webhook-secret was removed"},
		{name: "no such file", args: []string{"--webhook", "http://127.0.0.1:1/", "--webhook-secret-file", "/nonexistent/secret"},
			want: "--webhook-secret-file: open /nonexistent/secret: no such file or directory"},
		{name: "empty file", args: []string{"--webhook", "http://127.0.0.1:1/", "--webhook-secret-file", "EMPTY"},
			want: "--webhook-secret-file: the file is empty"},
		{name: "environment without webhook", env: secret, want: envWebhookSecret + ": no --webhook to sign for"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			newFake(t)
			t.Setenv(envWebhookSecret, tc.env)
			args := []string{"serve", "--listen", "127.0.0.1:0"}
			for _, a := range tc.args {
				if a == "EMPTY" {
					a = writeFile(t, "secret", "\n")
				}
				args = append(args, a)
			}
			r := runCLI(t, args...).want(t, exitUsage)
			if !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr %q; want it to hold %q", r.stderr, tc.want)
			}
			if strings.Contains(r.stderr, secret) {
				t.Errorf("stderr shows the secret: %q", r.stderr)
			}
		})
	}
}

// TestServeHelpSecretFlags: help offers the file, not the removed flag.
func TestServeHelpSecretFlags(t *testing.T) {
	clearEnv(t)
	r := runCLI(t, "help", "serve").want(t, 0)
	for _, tc := range []struct {
		flag string
		want bool
	}{
		{"-webhook-secret-file", true},
		{"-webhook-secret ", false},
		{"-webhook-secret\n", false},
	} {
		t.Run(tc.flag, func(t *testing.T) {
			if got := strings.Contains(r.stdout, tc.flag); got != tc.want {
				t.Errorf("help lists %q: %v; want %v\n%s", tc.flag, got, tc.want, r.stdout)
			}
		})
	}
}

// TestServeLogDurations: serve's JSON logs give durations as Go duration
// strings ("8.39ms"), as the -v text logs do, not as bare nanoseconds.
func TestServeLogDurations(t *testing.T) {
	newFake(t)
	s := startServe(t)
	var took any
	eventually(t, 10*time.Second, "the refresh's log line", func() bool {
		for _, rec := range s.logs(t) {
			if rec["msg"] == "ebayauth: token refreshed" {
				took = rec["took"]
				return true
			}
		}
		return false
	})
	str, ok := took.(string)
	if !ok {
		t.Fatalf("took = %v (%T); want a duration string", took, took)
	}
	if _, err := time.ParseDuration(str); err != nil {
		t.Errorf("took = %q: %v", str, err)
	}
}
