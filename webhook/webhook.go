// Package webhook sends alerts about an ebayauth.Manager by HTTP POST: a
// failing refresh, a refused refresh token, the fallback token in use, the
// token store down, and their recoveries.
//
// A Notifier queues alerts and posts them from one goroutine, so that the
// Manager never waits for a slow receiver:
//
//	n, err := webhook.New([]string{"https://alerts.example.com/ebay"},
//		webhook.WithSecret(secret), webhook.WithSource("lister-1"))
//	if err != nil {
//		return err
//	}
//	defer n.Close(shutdownCtx) // flushes the queue, until shutdownCtx ends
//	m, err := ebayauth.New(ebayauth.Config{ /* ... */ OnEvent: n.Notify})
//
// Alert sends alerts of the caller's own, such as a refresh token about to
// expire:
//
//	if st := m.Status(); st.RefreshTokenExpiring {
//		n.Alert("refresh_token_expiring", "the eBay refresh token expires soon",
//			map[string]any{"refresh_token_expiry": st.RefreshTokenExpiry})
//	}
//
// Each alert is a JSON object:
//
//	{
//	  "kind": "refresh_failed",
//	  "time": "2025-06-01T12:00:00Z",
//	  "message": "eBay token refresh failed",
//	  "source": "lister-1",
//	  "fingerprint": "9f86d081",          // the token concerned, if any
//	  "expiry": "2025-06-01T13:00:00Z",   // its expiry, if any
//	  "error": "ebayauth: ..."             // the failure, if any
//	}
//
// plus the fields given to Alert. It holds no credential. With WithSecret,
// the header X-Ebayauth-Signature carries "sha256=" and the hex HMAC-SHA256
// of the body under the secret; receivers check it with Verify.
//
// Delivery is best effort. Each receiver is tried in turn, alert by alert:
// a network error, a 5xx or a 429 answer is retried with jittered
// exponential backoff (a 429's Retry-After is honoured up to the maximum
// wait), and any other answer but 2xx is a failure. A receiver may get an
// alert twice if its answer was lost. When the queue is full the oldest
// alert is dropped.
package webhook

import (
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
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ebayauth/ebayauth"
)

// SignatureHeader is the header that carries the body's signature when the
// Notifier has a secret.
const SignatureHeader = "X-Ebayauth-Signature"

// Defaults of the options.
const (
	DefaultTries     = 5
	DefaultMinWait   = time.Second
	DefaultMaxWait   = time.Minute
	DefaultQueueSize = 100
	DefaultTimeout   = 30 * time.Second // per request, of the default client
)

// messages holds the event kinds Notify sends, with their messages.
var messages = map[ebayauth.EventKind]string{
	ebayauth.EventRefreshFailed:    "eBay token refresh failed",
	ebayauth.EventInvalidGrant:     "eBay refused the refresh token (invalid_grant): the seller must consent again",
	ebayauth.EventFallbackUsed:     "the static fallback token is in use",
	ebayauth.EventValidationFailed: "the eBay token failed validation",
	ebayauth.EventRecovered:        "eBay token refresh works again",
	ebayauth.EventStoreUnavailable: "the token store is unavailable: the Manager works alone",
	ebayauth.EventStoreRecovered:   "the token store works again",
}

// Notifier posts alerts to webhooks. Make one with New and stop it with
// Close; the zero value is not usable. It is safe for concurrent use.
type Notifier struct {
	urls             []*url.URL
	secret           []byte
	client           *http.Client
	ownClient        bool // client made by New: its idle connections are closed by Close
	log              *slog.Logger
	tries            int
	minWait, maxWait time.Duration
	size             int
	source           string

	mu     sync.Mutex // guards queue and closed
	queue  [][]byte   // bodies, oldest first
	closed bool

	wake   chan struct{} // a body was queued; buffered 1
	quit   chan struct{} // closed by Close: flush, then stop
	done   chan struct{} // closed when the worker has stopped
	ctx    context.Context
	cancel context.CancelFunc // aborts deliveries when Close's ctx ends

	sent, failed, dropped atomic.Int64
}

// An Option configures a Notifier.
type Option func(*Notifier)

// WithSecret makes the Notifier sign each body with HMAC-SHA256 under
// secret, in the SignatureHeader header. By default, or if secret is empty,
// bodies are not signed.
func WithSecret(secret []byte) Option {
	return func(n *Notifier) {
		if len(secret) > 0 {
			n.secret = bytes.Clone(secret)
		}
	}
}

// WithHTTPClient sets the client that posts. By default it is a client of
// its own with a timeout of DefaultTimeout per request.
func WithHTTPClient(c *http.Client) Option {
	return func(n *Notifier) {
		if c != nil {
			n.client, n.ownClient = c, false
		}
	}
}

// WithLogger sets the logger of failed deliveries and dropped alerts. By
// default it is slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(n *Notifier) {
		if l != nil {
			n.log = l
		}
	}
}

// WithRetry sets how many times at most a delivery is tried (at least 1)
// and the bounds of the wait between tries, which doubles from minWait up
// to maxWait, each wait drawn at random from its upper half. By default
// DefaultTries tries, waiting from DefaultMinWait to DefaultMaxWait.
func WithRetry(tries int, minWait, maxWait time.Duration) Option {
	return func(n *Notifier) {
		n.tries, n.minWait, n.maxWait = max(tries, 1), max(minWait, 0), max(maxWait, minWait, 0)
	}
}

// WithQueueSize sets how many alerts at most wait for delivery; when the
// queue is full, the oldest is dropped. Sizes below 1 are ignored. By
// default DefaultQueueSize.
func WithQueueSize(size int) Option {
	return func(n *Notifier) {
		if size >= 1 {
			n.size = size
		}
	}
}

// WithSource sets the payloads' "source", naming the sender to the
// receiver. By default it is the host name.
func WithSource(name string) Option {
	return func(n *Notifier) { n.source = name }
}

// New returns a Notifier that posts to each of urls, which must be absolute
// http or https URLs, and starts its worker goroutine.
func New(urls []string, opts ...Option) (*Notifier, error) {
	if len(urls) == 0 {
		return nil, errors.New("webhook: no URL")
	}
	n := &Notifier{
		client:    &http.Client{Timeout: DefaultTimeout, Transport: http.DefaultTransport.(*http.Transport).Clone()},
		ownClient: true,
		log:       slog.Default(),
		tries:     DefaultTries,
		minWait:   DefaultMinWait,
		maxWait:   DefaultMaxWait,
		size:      DefaultQueueSize,
		wake:      make(chan struct{}, 1),
		quit:      make(chan struct{}),
		done:      make(chan struct{}),
	}
	n.source, _ = os.Hostname()
	for i, raw := range urls {
		u, err := url.Parse(raw)
		switch {
		case err != nil:
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err // ue.Error() would repeat the URL in full
			}
			return nil, fmt.Errorf("webhook: URL %d %q: %w", i+1, redact(nil, raw), err)
		case u.Scheme != "http" && u.Scheme != "https":
			return nil, fmt.Errorf("webhook: URL %d %q: scheme is not http or https", i+1, redact(u, raw))
		case u.Host == "":
			return nil, fmt.Errorf("webhook: URL %d %q: no host", i+1, redact(u, raw))
		}
		n.urls = append(n.urls, u)
	}
	for _, o := range opts {
		o(n)
	}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	go n.run()
	return n, nil
}

// redact shows enough of a URL to recognize it, and no more: webhook URLs
// often hold a secret in their path or query (Slack, Discord, Teams).
func redact(u *url.URL, raw string) string {
	if u != nil && u.Host != "" {
		s := u.Scheme + "://" + u.Host
		if u.Path != "" || u.RawQuery != "" {
			s += "/…"
		}
		return s
	}
	if r := []rune(raw); len(r) > 12 {
		return string(r[:12]) + "…"
	}
	return raw
}

// Notify queues an alert for e if its kind is alert-worthy: refresh_failed,
// invalid_grant, fallback_used, validation_failed, recovered,
// store_unavailable or store_recovered. It has the signature of
// ebayauth.Config.OnEvent, and never blocks.
func (n *Notifier) Notify(e ebayauth.Event) {
	msg, ok := messages[e.Kind]
	if !ok {
		return
	}
	p := map[string]any{}
	if e.Fingerprint != "" {
		p["fingerprint"] = e.Fingerprint
	}
	if !e.Expiry.IsZero() {
		p["expiry"] = e.Expiry.UTC()
	}
	if e.Err != nil {
		p["error"] = e.Err.Error()
	}
	n.enqueue(string(e.Kind), e.Time, msg, p)
}

// Alert queues an alert that comes from no event, such as
// "refresh_token_expiring". The fields are added to the payload, except
// those named like its standard members (kind, time, message, source), and
// must encode as JSON. It never blocks.
func (n *Notifier) Alert(kind, message string, fields map[string]any) {
	p := make(map[string]any, len(fields)+4)
	for k, v := range fields {
		p[k] = v
	}
	n.enqueue(kind, time.Time{}, message, p)
}

func (n *Notifier) enqueue(kind string, t time.Time, msg string, p map[string]any) {
	if t.IsZero() {
		t = time.Now()
	}
	p["kind"], p["time"], p["message"], p["source"] = kind, t.UTC(), msg, n.source
	body, err := json.Marshal(p)
	if err != nil {
		n.dropped.Add(1)
		n.log.Error("webhook: alert dropped: cannot encode it", slog.String("kind", kind), slog.String("error", err.Error()))
		return
	}
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		n.dropped.Add(1)
		n.log.Warn("webhook: alert dropped: notifier closed", slog.String("kind", kind))
		return
	}
	full := len(n.queue) >= n.size
	if full {
		n.queue = slices.Delete(n.queue, 0, 1)
	}
	n.queue = append(n.queue, body)
	n.mu.Unlock()
	if full {
		n.dropped.Add(1)
		n.log.Warn("webhook: oldest alert dropped: queue full", slog.Int("size", n.size))
	}
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// pop takes the oldest body from the queue.
func (n *Notifier) pop() ([]byte, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.queue) == 0 {
		return nil, false
	}
	b := n.queue[0]
	n.queue = n.queue[1:]
	return b, true
}

// run is the worker: it delivers queued bodies until Close, then those
// left, unless Close's ctx ends first.
func (n *Notifier) run() {
	defer close(n.done)
	quit := n.quit
	for {
		if n.ctx.Err() != nil {
			n.mu.Lock()
			n.dropped.Add(int64(len(n.queue)))
			n.queue = nil
			n.mu.Unlock()
			return
		}
		if body, ok := n.pop(); ok {
			for _, u := range n.urls {
				if n.deliver(u, body) {
					n.sent.Add(1)
				} else {
					n.failed.Add(1)
				}
			}
			continue
		}
		if quit == nil { // closed, and the queue is empty for good
			return
		}
		select {
		case <-n.wake:
		case <-quit:
			quit = nil
		}
	}
}

// deliver posts body to u, retrying as configured, and reports success.
func (n *Notifier) deliver(u *url.URL, body []byte) bool {
	for try := 1; ; try++ {
		retry, after, err := n.post(u, body)
		if err == nil {
			return true
		}
		if !retry || try >= n.tries || n.ctx.Err() != nil {
			n.log.Error("webhook: alert not delivered", slog.String("host", u.Host),
				slog.Int("tries", try), slog.String("error", err.Error()))
			return false
		}
		wait := max(n.backoff(try), min(after, n.maxWait))
		n.log.Debug("webhook: retrying", slog.String("host", u.Host), slog.Int("try", try),
			slog.Duration("wait", wait), slog.String("error", err.Error()))
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-n.ctx.Done():
			t.Stop()
			n.log.Error("webhook: alert not delivered: notifier closed", slog.String("host", u.Host))
			return false
		}
	}
}

// backoff returns the wait after the given try: minWait doubled try-1
// times, at most maxWait, drawn from the upper half.
func (n *Notifier) backoff(try int) time.Duration {
	d := n.minWait
	for i := 1; i < try && d < n.maxWait; i++ {
		d *= 2
	}
	d = min(d, n.maxWait)
	return d/2 + rand.N(d-d/2+1)
}

// post makes one try. It reports whether a failure is worth retrying and
// how long the receiver asked to wait (Retry-After).
func (n *Notifier) post(u *url.URL, body []byte) (retry bool, after time.Duration, err error) {
	req, err := http.NewRequestWithContext(n.ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return false, 0, fmt.Errorf("webhook: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "ebayauth-webhook")
	if n.secret != nil {
		req.Header.Set(SignatureHeader, sign(n.secret, body))
	}
	resp, err := n.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // ue.Error() holds the URL, which may hold a secret
		}
		return true, 0, fmt.Errorf("webhook: %s: %w", u.Host, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return false, 0, nil
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		after = time.Duration(s) * time.Second
	}
	retry = resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500
	return retry, after, fmt.Errorf("webhook: %s answered %s", u.Host, resp.Status)
}

func sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether signature, the value of the SignatureHeader
// header, signs body under secret. It is for receivers.
func Verify(secret, body []byte, signature string) bool {
	return hmac.Equal([]byte(signature), []byte(sign(secret, body)))
}

// Stats reports the deliveries so far, counting each alert once per URL
// (sent, failed after its tries), and the alerts dropped unsent (queue
// full, Notifier closed, unencodable fields, or left when Close gave up).
func (n *Notifier) Stats() (sent, failed, dropped int64) {
	return n.sent.Load(), n.failed.Load(), n.dropped.Load()
}

// Close stops the Notifier: later alerts are dropped, and those queued are
// delivered first, unless ctx ends, which aborts deliveries in progress
// and drops the rest. When Close returns, the worker goroutine has stopped.
// It returns ctx's error if ctx ended first. Calling Close again is safe.
func (n *Notifier) Close(ctx context.Context) error {
	n.mu.Lock()
	if !n.closed {
		n.closed = true
		close(n.quit)
	}
	n.mu.Unlock()
	var err error
	select {
	case <-n.done:
	case <-ctx.Done():
		err = fmt.Errorf("webhook: close: %w", ctx.Err())
	}
	n.cancel()
	<-n.done
	if n.ownClient {
		n.client.CloseIdleConnections()
	}
	return err
}
