package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ebayauth/ebayauth/internal/syncbuf"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/webhook"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fastRetry makes retries wait about a millisecond.
var fastRetry = webhook.WithRetry(3, time.Millisecond, time.Millisecond)

type request struct {
	header http.Header
	body   []byte
}

// receiver is a webhook endpoint that records the requests it gets and
// answers each with status(n), n counting from 1.
type receiver struct {
	*httptest.Server
	reqs chan request
}

func newReceiver(t *testing.T, status func(n int) int) *receiver {
	t.Helper()
	r := &receiver{reqs: make(chan request, 1000)}
	var mu sync.Mutex
	n := 0
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			t.Errorf("reading body: %v", err)
		}
		if req.Method != http.MethodPost {
			t.Errorf("method %s; want POST", req.Method)
		}
		mu.Lock()
		n++
		code := status(n)
		mu.Unlock()
		r.reqs <- request{req.Header.Clone(), body}
		w.WriteHeader(code)
	}))
	t.Cleanup(r.Close)
	return r
}

func ok(int) int { return http.StatusOK }

// seq answers the nth request with codes[n-1], and the last code after.
func seq(codes ...int) func(n int) int {
	return func(n int) int { return codes[min(n, len(codes))-1] }
}

// received returns what r got so far.
func (r *receiver) received() []request {
	var out []request
	for {
		select {
		case q := <-r.reqs:
			out = append(out, q)
		default:
			return out
		}
	}
}

func kinds(t *testing.T, reqs []request) []string {
	t.Helper()
	var out []string
	for _, q := range reqs {
		var p struct{ Kind string }
		if err := json.Unmarshal(q.body, &p); err != nil {
			t.Fatalf("body %q: %v", q.body, err)
		}
		out = append(out, p.Kind)
	}
	return out
}

func newNotifier(t *testing.T, urls []string, opts ...webhook.Option) *webhook.Notifier {
	t.Helper()
	opts = append([]webhook.Option{webhook.WithLogger(slog.New(slog.DiscardHandler)), webhook.WithSource("test")}, opts...)
	n, err := webhook.New(urls, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func closeNotifier(t *testing.T, n *webhook.Notifier) {
	t.Helper()
	if err := n.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func checkStats(t *testing.T, n *webhook.Notifier, sent, failed, dropped int64) {
	t.Helper()
	s, f, d := n.Stats()
	if s != sent || f != failed || d != dropped {
		t.Errorf("Stats() = %d, %d, %d; want %d, %d, %d", s, f, d, sent, failed, dropped)
	}
}

func TestPayloadAndSignature(t *testing.T) {
	secret := []byte("s3cret")
	r := newReceiver(t, ok)
	n := newNotifier(t, []string{r.URL + "/hook"}, webhook.WithSecret(secret))
	before := time.Now().Truncate(time.Second)
	at := time.Date(2037, 6, 1, 14, 0, 0, 0, time.FixedZone("CEST", 2*3600))
	n.Notify(ebayauth.Event{
		Kind: ebayauth.EventRefreshFailed, Time: at, Fingerprint: "9f86d081",
		Expiry: at.Add(time.Hour), Duration: time.Second, Err: errors.New("ebayauth: server error"),
	})
	n.Notify(ebayauth.Event{Kind: ebayauth.EventStoreRecovered, Time: at})
	closeNotifier(t, n)
	reqs := r.received()
	if len(reqs) != 2 {
		t.Fatalf("got %d requests; want 2", len(reqs))
	}

	var (
		got []map[string]any
		ids []any
	)
	for _, q := range reqs {
		if ct := q.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q; want application/json", ct)
		}
		// Recompute the signature as a receiver would.
		ts := q.header.Get(webhook.TimestampHeader)
		sec, err := strconv.ParseInt(ts, 10, 64)
		if err != nil || time.Unix(sec, 0).Before(before) || time.Unix(sec, 0).After(time.Now()) {
			t.Errorf("timestamp %q (%v); want now, in Unix seconds", ts, err)
		}
		mac := hmac.New(sha256.New, secret)
		mac.Write([]byte(ts + "."))
		mac.Write(q.body)
		want := "v1=" + hex.EncodeToString(mac.Sum(nil))
		if sig := q.header.Get(webhook.SignatureHeader); sig != want {
			t.Errorf("signature %q; want %q", sig, want)
		}
		if err := webhook.Verify(secret, q.header, q.body); err != nil {
			t.Errorf("Verify = %v; want nil", err)
		}
		var p map[string]any
		if err := json.Unmarshal(q.body, &p); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p["id"])
		delete(p, "id")
		got = append(got, p)
	}
	if id, ok := ids[0].(string); !ok || len(id) != 26 || ids[1] == ids[0] {
		t.Errorf("ids %q; want two different random ones", ids)
	}
	want := []map[string]any{{
		"kind":        "refresh_failed",
		"time":        "2037-06-01T12:00:00Z",
		"message":     "eBay token refresh failed",
		"source":      "test",
		"fingerprint": "9f86d081",
		"expiry":      "2037-06-01T13:00:00Z",
		"error":       "ebayauth: server error",
	}, {
		"kind":    "store_recovered",
		"time":    "2037-06-01T12:00:00Z",
		"message": "the token store works again",
		"source":  "test",
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("payloads (-want +got):\n%s", diff)
	}
	checkStats(t, n, 2, 0, 0)
}

func TestAlert(t *testing.T) {
	r := newReceiver(t, ok)
	n := newNotifier(t, []string{r.URL}, webhook.WithSecret([]byte{})) // empty: no signature
	before := time.Now().Add(-time.Second)
	n.Alert("refresh_token_expiring", "the refresh token expires in 10 days", map[string]any{
		"refresh_token_expiry": "2025-07-01T00:00:00Z",
		"days_left":            10,
		"kind":                 "spoofed", // standard members are not overridden
		"id":                   "spoofed",
	})
	closeNotifier(t, n)
	reqs := r.received()
	if len(reqs) != 1 {
		t.Fatalf("got %d requests; want 1", len(reqs))
	}
	for _, h := range []string{webhook.SignatureHeader, webhook.TimestampHeader} {
		if v := reqs[0].header.Get(h); v != "" {
			t.Errorf("%s %q without a secret", h, v)
		}
	}
	var p map[string]any
	if err := json.Unmarshal(reqs[0].body, &p); err != nil {
		t.Fatal(err)
	}
	tm, err := time.Parse(time.RFC3339Nano, fmt.Sprint(p["time"]))
	if err != nil || tm.Before(before) {
		t.Errorf("time %v (%v); want about now", p["time"], err)
	}
	delete(p, "time")
	if id, _ := p["id"].(string); len(id) != 26 {
		t.Errorf("id %q; want a random one", p["id"])
	}
	delete(p, "id")
	want := map[string]any{
		"kind": "refresh_token_expiring", "message": "the refresh token expires in 10 days", "source": "test",
		"refresh_token_expiry": "2025-07-01T00:00:00Z", "days_left": 10.0,
	}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("payload (-want +got):\n%s", diff)
	}
}

func TestAlertUnencodable(t *testing.T) {
	r := newReceiver(t, ok)
	n := newNotifier(t, []string{r.URL})
	n.Alert("x", "y", map[string]any{"ch": make(chan int)})
	closeNotifier(t, n)
	if got := len(r.received()); got != 0 {
		t.Errorf("got %d requests; want 0", got)
	}
	checkStats(t, n, 0, 0, 1)
}

func TestNotifyFilters(t *testing.T) {
	r := newReceiver(t, ok)
	n := newNotifier(t, []string{r.URL})
	all := []ebayauth.EventKind{
		ebayauth.EventRefreshed, ebayauth.EventTokenFromStore, ebayauth.EventRefreshFailed, ebayauth.EventInvalidGrant,
		ebayauth.EventRecovered, ebayauth.EventFallbackUsed, ebayauth.EventRetried401, ebayauth.EventValidated,
		ebayauth.EventValidationFailed, ebayauth.EventStoreUnavailable, ebayauth.EventStoreRecovered, "unknown",
	}
	for _, k := range all {
		n.Notify(ebayauth.Event{Kind: k})
	}
	closeNotifier(t, n)
	want := []string{"refresh_failed", "invalid_grant", "recovered", "fallback_used", "validation_failed",
		"store_unavailable", "store_recovered"}
	if diff := cmp.Diff(want, kinds(t, r.received())); diff != "" {
		t.Errorf("kinds sent (-want +got):\n%s", diff)
	}
}

func TestSeveralURLs(t *testing.T) {
	r1, r2 := newReceiver(t, ok), newReceiver(t, ok)
	n := newNotifier(t, []string{r1.URL, r2.URL})
	n.Alert("a", "m", nil)
	closeNotifier(t, n)
	if len(r1.received()) != 1 || len(r2.received()) != 1 {
		t.Error("each receiver should get the alert once")
	}
	checkStats(t, n, 2, 0, 0)
}

func TestRetry(t *testing.T) {
	for _, tc := range []struct {
		name         string
		status       func(n int) int
		requests     int
		sent, failed int64
	}{
		{"500 then 200", seq(500, 200), 2, 1, 0},
		{"429 then 200", seq(429, 200), 2, 1, 0},
		{"503 always", seq(503), 3, 0, 1},
		{"400 is final", seq(400), 1, 0, 1},
		{"404 is final", seq(404), 1, 0, 1},
		{"204 is success", seq(204), 1, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newReceiver(t, tc.status)
			n := newNotifier(t, []string{r.URL}, fastRetry)
			n.Notify(ebayauth.Event{Kind: ebayauth.EventInvalidGrant})
			closeNotifier(t, n)
			if got := len(r.received()); got != tc.requests {
				t.Errorf("got %d requests; want %d", got, tc.requests)
			}
			checkStats(t, n, tc.sent, tc.failed, 0)
		})
	}
}

func TestNetworkErrorKeepsURLSecret(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	dead := srv.URL + "/services/T000/B000/SECRETPATH?token=SECRETQUERY"
	srv.Close() // nothing listens there any more: connection refused
	var logs syncbuf.Buffer
	n := newNotifier(t, []string{dead}, fastRetry,
		webhook.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	n.Alert("a", "m", nil)
	closeNotifier(t, n)
	checkStats(t, n, 0, 1, 0)
	if got := strings.Count(logs.String(), "webhook: retrying"); got != 2 {
		t.Errorf("logged %d retries; want 2:\n%s", got, logs.String())
	}
	if strings.Contains(logs.String(), "SECRET") {
		t.Errorf("logs show the URL's secret:\n%s", logs.String())
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestErrorsKeepURLSecret: whatever quotes the URL in an error (here a
// transport, as a proxy's might), the errors and logs show its scheme and
// host only.
func TestErrorsKeepURLSecret(t *testing.T) {
	for _, tc := range []struct{ name, url, receiver string }{
		{"path and query", "https://hooks.example.com/services/T000/SECRETPATH?token=SECRETQUERY", "https://hooks.example.com/…"},
		{"user info", "https://user:SECRETPASS@hooks.example.com:8443", "https://hooks.example.com:8443"},
		{"escaped path", "https://hooks.example.com/a%20SECRETPATH", "https://hooks.example.com/…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs syncbuf.Buffer
			client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
				return nil, fmt.Errorf("proxy refused %s (path %s, query %s, user %s)", r.URL, r.URL.Path, r.URL.RawQuery, r.URL.User)
			})}
			n := newNotifier(t, []string{tc.url}, fastRetry, webhook.WithHTTPClient(client),
				webhook.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
			n.Alert("a", "m", nil)
			closeNotifier(t, n)
			st := n.ReceiverStats()
			if len(st) != 1 || st[0].Receiver != tc.receiver || st[0].LastError == nil {
				t.Fatalf("ReceiverStats() = %+v; want receiver %q with its error", st, tc.receiver)
			}
			msg := st[0].LastError.Error()
			if want := "webhook: " + tc.receiver + ": proxy refused "; !strings.HasPrefix(msg, want) {
				t.Errorf("LastError %q; want it to start with %q", msg, want)
			}
			for _, text := range []string{msg, logs.String()} {
				if strings.Contains(text, "SECRET") {
					t.Errorf("the URL's secret shows:\n%s", text)
				}
			}
		})
	}
}

// hangingReceiver answers no request until release is called; arrived
// gets the body of each request as it arrives.
func hangingReceiver(t *testing.T) (srv *httptest.Server, arrived chan []byte, release func()) {
	t.Helper()
	arrived, released := make(chan []byte, 1000), make(chan struct{})
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("reading body: %v", err)
		}
		arrived <- body
		select {
		case <-released:
		case <-r.Context().Done():
		}
	}))
	var once sync.Once
	release = func() { once.Do(func() { close(released) }) }
	t.Cleanup(func() { release(); srv.Close() })
	return srv, arrived, release
}

// hangingListener is a receiver that accepts connections and never
// answers, nor reads: a server stuck for good. accepted gets a value per
// connection. release closes the connections, and those accepted later at
// once, as a server that drops them.
func hangingListener(t *testing.T) (url string, accepted chan struct{}, release func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted = make(chan struct{}, 1000)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		conns    []net.Conn
		released bool
	)
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			if released {
				c.Close()
			} else {
				conns = append(conns, c)
			}
			mu.Unlock()
			accepted <- struct{}{}
		}
	})
	release = func() {
		mu.Lock()
		defer mu.Unlock()
		released = true
		for _, c := range conns {
			c.Close()
		}
		conns = nil
	}
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
		release()
	})
	return "http://" + ln.Addr().String() + "/hook", accepted, release
}

// hangGuard bounds a wait that a correct Notifier ends at once; it only
// turns a hang into a failure, and measures nothing.
const hangGuard = time.Minute

// waitRequests waits for n requests to r and returns them.
func waitRequests(t *testing.T, r *receiver, n int, what string) []request {
	t.Helper()
	guard := time.NewTimer(hangGuard)
	defer guard.Stop()
	var out []request
	for len(out) < n {
		select {
		case q := <-r.reqs:
			out = append(out, q)
		case <-guard.C:
			t.Fatalf("%s: got %d of %d requests", what, len(out), n)
		}
	}
	return out
}

func receiverStats(t *testing.T, n *webhook.Notifier) []webhook.ReceiverStats {
	t.Helper()
	st := n.ReceiverStats()
	for i := range st {
		st[i].LastError = nil // compared apart
	}
	return st
}

// TestHangingReceiverStarvesNoOther: a receiver that never answers holds
// up its own alerts only. Its tries time out after an hour, so that the
// healthy receiver gets every alert while the hanging one is still on its
// first.
func TestHangingReceiverStarvesNoOther(t *testing.T) {
	hung, accepted, release := hangingListener(t)
	healthy := newReceiver(t, ok)
	n := newNotifier(t, []string{hung, healthy.URL + "/services/T0/SECRET"},
		webhook.WithTimeout(time.Hour), webhook.WithRetry(1, time.Hour, time.Hour))
	const alerts = 20
	var want []string
	for i := range alerts {
		want = append(want, fmt.Sprint("a", i))
		n.Alert(want[i], "m", nil)
	}
	select { // the hanging receiver holds its first alert, for an hour
	case <-accepted:
	case <-time.After(hangGuard):
		t.Fatal("the hanging receiver got no connection")
	}
	got := kinds(t, waitRequests(t, healthy, alerts, "healthy receiver while the other hangs"))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("healthy receiver got (-want +got):\n%s", diff)
	}
	hungName := strings.TrimSuffix(hung, "/hook") + "/…"
	if st := n.ReceiverStats()[0]; st.Sent != 0 || st.Failed != 0 || st.Queued != alerts-1 {
		t.Errorf("hanging receiver's stats %+v; want its first alert in flight, the others queued", st)
	}

	// The hanging receiver drops its connections: its alerts fail in turn.
	release()
	closeNotifier(t, n)
	wantStats := []webhook.ReceiverStats{
		{Receiver: hungName, Failed: alerts},
		{Receiver: healthy.URL + "/…", Sent: alerts},
	}
	if diff := cmp.Diff(wantStats, receiverStats(t, n)); diff != "" {
		t.Errorf("ReceiverStats (-want +got):\n%s", diff)
	}
	checkStats(t, n, alerts, alerts, 0)
}

// TestTimeoutPerTry: a try that gets no answer ends at the timeout and
// is retried; the error says it timed out.
func TestTimeoutPerTry(t *testing.T) {
	hung, _, _ := hangingListener(t)
	n := newNotifier(t, []string{hung}, webhook.WithTimeout(time.Millisecond), fastRetry)
	n.Alert("a", "m", nil)
	closeNotifier(t, n) // flushes: each of the 3 tries ends at its timeout
	st := n.ReceiverStats()
	if len(st) != 1 || st[0].Failed != 1 || st[0].Sent != 0 {
		t.Fatalf("ReceiverStats() = %+v; want one alert failed", st)
	}
	var de *webhook.DeliveryError
	var timeout interface{ Timeout() bool }
	if !errors.As(st[0].LastError, &de) || !de.Temporary() || de.StatusCode != 0 ||
		!errors.Is(de, context.DeadlineExceeded) && !(errors.As(de, &timeout) && timeout.Timeout()) {
		t.Errorf("LastError = %v; want a temporary *DeliveryError that timed out", st[0].LastError)
	}
}

// TestDropOldestPerReceiver: a full queue drops the oldest alerts of its
// own receiver only.
func TestDropOldestPerReceiver(t *testing.T) {
	srv, arrived, release := hangingReceiver(t)
	healthy := newReceiver(t, ok)
	n := newNotifier(t, []string{srv.URL, healthy.URL}, webhook.WithQueueSize(3))
	n.Alert("a0", "m", nil)
	first := <-arrived // a0 is in flight to srv
	waitRequests(t, healthy, 1, "a0")
	for i := 1; i <= 5; i++ {
		n.Alert(fmt.Sprint("a", i), "m", nil)
		waitRequests(t, healthy, 1, fmt.Sprint("a", i)) // the healthy queue never fills
	}
	release()
	closeNotifier(t, n)
	reqs := []request{{body: first}}
	for len(arrived) > 0 {
		reqs = append(reqs, request{body: <-arrived})
	}
	if diff := cmp.Diff([]string{"a0", "a3", "a4", "a5"}, kinds(t, reqs)); diff != "" {
		t.Errorf("delivered to the slow receiver (-want +got):\n%s", diff)
	}
	want := []webhook.ReceiverStats{
		{Receiver: srv.URL, Sent: 4, Dropped: 2},
		{Receiver: healthy.URL, Sent: 6},
	}
	if diff := cmp.Diff(want, receiverStats(t, n)); diff != "" {
		t.Errorf("ReceiverStats (-want +got):\n%s", diff)
	}
	checkStats(t, n, 10, 0, 2)
}

func TestNotifyNeverBlocks(t *testing.T) {
	srv, arrived, _ := hangingReceiver(t)
	n := newNotifier(t, []string{srv.URL}, webhook.WithQueueSize(10))
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 1000 {
			n.Notify(ebayauth.Event{Kind: ebayauth.EventRefreshFailed})
			n.Alert("a", "m", nil)
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Notify blocked on a hanging receiver")
	}
	<-arrived // the worker is stuck on the first alert
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := n.Close(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Close = %v; want context.Canceled", err)
	}
	// One alert in flight fails, the other 1999 are dropped: by the full
	// queue, or by Close giving up on the 10 left in it.
	checkStats(t, n, 0, 1, 1999)
}

func TestDropOldest(t *testing.T) {
	srv, arrived, release := hangingReceiver(t)
	n := newNotifier(t, []string{srv.URL}, webhook.WithQueueSize(3))
	n.Alert("a0", "m", nil)
	first := <-arrived // a0 is in flight, the queue empty
	for i := 1; i <= 5; i++ {
		n.Alert(fmt.Sprint("a", i), "m", nil)
	}
	checkStats(t, n, 0, 0, 2) // a1 and a2 made room for a4 and a5
	release()
	closeNotifier(t, n)
	reqs := []request{{body: first}}
	for len(arrived) > 0 {
		reqs = append(reqs, request{body: <-arrived})
	}
	if diff := cmp.Diff([]string{"a0", "a3", "a4", "a5"}, kinds(t, reqs)); diff != "" {
		t.Errorf("delivered (-want +got):\n%s", diff)
	}
	checkStats(t, n, 4, 0, 2)
}

func TestCloseFlushes(t *testing.T) {
	r := newReceiver(t, ok)
	n := newNotifier(t, []string{r.URL})
	var want []string
	for i := range 50 {
		want = append(want, fmt.Sprint("a", i))
		n.Alert(want[i], "m", nil)
	}
	closeNotifier(t, n)
	if diff := cmp.Diff(want, kinds(t, r.received())); diff != "" {
		t.Errorf("delivered (-want +got):\n%s", diff)
	}
	n.Alert("late", "m", nil) // dropped: closed
	closeNotifier(t, n)       // again: a no-op
	if got := len(r.received()); got != 0 {
		t.Errorf("got %d requests after Close; want 0", got)
	}
	checkStats(t, n, 50, 0, 1)
}

func TestCloseStopsWaitingForRetry(t *testing.T) {
	r := newReceiver(t, seq(500))
	n := newNotifier(t, []string{r.URL}, webhook.WithRetry(5, time.Hour, time.Hour))
	n.Alert("a", "m", nil)
	<-r.reqs // first try made; the worker now waits an hour
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := n.Close(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Close = %v; want context.Canceled", err)
	}
	checkStats(t, n, 0, 1, 0)
}

func TestNewErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		urls []string
		want string
	}{
		{"none", nil, "webhook: no URL"},
		{"no scheme", []string{"https://ok.example/", "hooks.example.com/services/SECRET"}, `webhook: URL 2 "…": scheme is not http or https`},
		{"ftp", []string{"ftp://files.example/SECRET"}, `webhook: URL 1 "ftp://files.example/…": scheme is not http or https`},
		{"no host", []string{"http:///SECRET"}, `webhook: URL 1 "http://…": no host`},
		{"unparsable", []string{"http://h.example/\x7fSECRET"}, `webhook: URL 1 "http://h.example/…": net/url: invalid control character in URL`},
		{"bad port", []string{"http://u:SECRET@h.example:x/SECRET"}, `webhook: URL 1 "http://h.example:x/…": invalid port ":x" after host`},
		{"control character in host", []string{"http://h\nSECRET/"}, `webhook: URL 1 "http://…": net/url: invalid control character in URL`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := webhook.New(tc.urls)
			if err == nil {
				closeNotifier(t, n)
				t.Fatal("New succeeded")
			}
			if err.Error() != tc.want {
				t.Errorf("New: %q; want %q", err, tc.want)
			}
		})
	}
}
