// Package webhook sends alerts about an ebayauth.Manager by HTTP POST: a
// failing refresh, a refused refresh token, the fallback token in use, the
// token store down, and their recoveries.
//
// A Notifier queues alerts and posts them from goroutines of its own, so
// that the Manager never waits for a slow receiver:
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
//	  "id": "5CZ3LQ7BWKXJ2M4TQ6N3RYV7HA",
//	  "kind": "refresh_failed",
//	  "time": "2025-06-01T12:00:00Z",
//	  "message": "eBay token refresh failed",
//	  "source": "lister-1",
//	  "fingerprint": "9f86d081",          // the token concerned, if any
//	  "expiry": "2025-06-01T13:00:00Z",   // its expiry, if any
//	  "error": "ebayauth: ..."             // the failure, if any
//	}
//
// plus the fields given to Alert. It holds no credential. The id is the
// alert's own, the same on every try and for every receiver.
//
// # Signatures
//
// With WithSecret, each request carries two headers:
//
//	X-Ebayauth-Timestamp: 1748779200
//	X-Ebayauth-Signature: v1=5f0c…(64 hex digits)
//
// The timestamp is the Unix time in seconds when the request was sent;
// each retry is signed anew. The signature is "v1=" and the hex
// HMAC-SHA256, under the secret, of the timestamp as sent, a period, and
// the body:
//
//	hex(HMAC-SHA256(secret, "1748779200" + "." + body))
//
// A receiver, in any language, checks a request this way:
//
//  1. Read the body as raw bytes, before decoding the JSON.
//  2. Compute the HMAC above over the X-Ebayauth-Timestamp header as
//     received, and compare it in constant time with the hex digits after
//     "v1=" (hmac.Equal; crypto.timingSafeEqual; hmac.compare_digest).
//     Refuse the request if a header is missing, the prefix is not "v1=",
//     or the two differ.
//  3. Refuse it if the timestamp is more than five minutes before or
//     after the receiver's clock (DefaultMaxAge): a request recorded and
//     replayed later is refused, and changing its timestamp breaks the
//     signature.
//  4. To refuse a replay within those five minutes as well, remember the
//     ids of the alerts accepted in the last five minutes and ignore one
//     seen again; this also ignores the duplicate a lost answer can cause.
//
// In Go, Verify does steps 2 and 3 (VerifyAt takes a clock and a maximum
// age of the caller's); see its example.
//
// The "v1=" prefix names this scheme: earlier versions sent "sha256=" and
// the HMAC of the body alone, with no timestamp, so that a request
// captured once verified for ever. Verify refuses that form; a receiver
// written for it must be updated, and will refuse the new requests until
// it is, rather than accept them unchecked.
//
// # Delivery
//
// Delivery is best effort, and each receiver is served on its own: it has
// a goroutine and a queue of its own (DefaultQueueSize alerts; when full,
// its oldest alert is dropped and counted), so a receiver that is slow,
// down or never answers delays and drops only its own alerts. Each try is
// bounded by a timeout (DefaultTimeout, see WithTimeout). A network error,
// a timeout, a 5xx or a 429 answer is retried with jittered exponential
// backoff (a 429's Retry-After is honoured up to the maximum wait), and
// any other answer but 2xx is a failure. A receiver gets its alerts in the
// order they were queued, and may get one twice if its answer was lost.
// Stats and ReceiverStats count what was sent, failed and dropped.
package webhook

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/ebayauth/ebayauth"
)

// Defaults of the options.
const (
	DefaultTries     = 5
	DefaultMinWait   = time.Second
	DefaultMaxWait   = time.Minute
	DefaultQueueSize = 100              // per receiver
	DefaultTimeout   = 10 * time.Second // per try
)

// messages holds the event kinds Notify sends, with their messages.
var messages = map[ebayauth.EventKind]string{
	ebayauth.EventRefreshFailed:        "eBay token refresh failed",
	ebayauth.EventInvalidGrant:         "eBay refused the refresh token (invalid_grant): the seller must consent again",
	ebayauth.EventFallbackUsed:         "the static fallback token is in use",
	ebayauth.EventValidationFailed:     "the eBay token failed validation",
	ebayauth.EventRecovered:            "eBay token refresh works again",
	ebayauth.EventStoreUnavailable:     "the token store is unavailable: the Manager works alone",
	ebayauth.EventStoreRecovered:       "the token store works again",
	ebayauth.EventRefreshTokenExpiring: "the seller's eBay refresh token expires within 30 days: ask them to consent again",
}

// Notifier posts alerts to webhooks. Make one with New and stop it with
// Close; the zero value is not usable. It is safe for concurrent use.
type Notifier struct {
	receivers        []*receiver
	secret           []byte
	client           *http.Client
	ownClient        bool // client made by New: its idle connections are closed by Close
	log              *slog.Logger
	tries            int
	minWait, maxWait time.Duration
	timeout          time.Duration // per try
	size             int           // of each receiver's queue
	source           string

	mu     sync.Mutex // guards closed; held while an alert is queued to every receiver
	closed bool

	quit   chan struct{} // closed by Close: flush, then stop
	wg     sync.WaitGroup
	done   chan struct{} // closed when every receiver's goroutine has stopped
	ctx    context.Context
	cancel context.CancelFunc // aborts deliveries when Close's ctx ends
}

// An Option configures a Notifier. New applies the options in order and
// returns the first error one reports.
type Option func(*Notifier) error

// WithSecret makes the Notifier sign each request with HMAC-SHA256 under
// secret, in the TimestampHeader and SignatureHeader headers, as the
// package documentation describes. By default, or if secret is empty,
// requests are not signed.
func WithSecret(secret []byte) Option {
	return func(n *Notifier) error {
		if len(secret) > 0 {
			n.secret = bytes.Clone(secret)
		}
		return nil
	}
}

// WithHTTPClient sets the client that posts. By default it is a client of
// its own. The timeout of WithTimeout bounds each try with either.
func WithHTTPClient(c *http.Client) Option {
	return func(n *Notifier) error {
		if c != nil {
			n.client, n.ownClient = c, false
		}
		return nil
	}
}

// WithTimeout bounds each try to deliver an alert: connecting, sending the
// request and reading the answer. A try that times out is retried like a
// network error. Durations below 1 are ignored. By default DefaultTimeout.
func WithTimeout(d time.Duration) Option {
	return func(n *Notifier) error {
		if d > 0 {
			n.timeout = d
		}
		return nil
	}
}

// WithLogger sets the logger of failed deliveries and dropped alerts. By
// default it is slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(n *Notifier) error {
		if l != nil {
			n.log = l
		}
		return nil
	}
}

// WithRetry sets how many times at most a delivery is tried (at least 1)
// and the bounds of the wait between tries, which doubles from minWait up
// to maxWait, each wait drawn at random from its upper half. By default
// DefaultTries tries, waiting from DefaultMinWait to DefaultMaxWait.
func WithRetry(tries int, minWait, maxWait time.Duration) Option {
	return func(n *Notifier) error {
		n.tries, n.minWait, n.maxWait = max(tries, 1), max(minWait, 0), max(maxWait, minWait, 0)
		return nil
	}
}

// WithQueueSize sets how many alerts at most wait for delivery to each
// receiver; when a receiver's queue is full, its oldest alert is dropped.
// Sizes below 1 are ignored. By default DefaultQueueSize.
func WithQueueSize(size int) Option {
	return func(n *Notifier) error {
		if size >= 1 {
			n.size = size
		}
		return nil
	}
}

// WithSource sets the payloads' "source", naming the sender to the
// receiver. By default it is the host name.
func WithSource(name string) Option {
	return func(n *Notifier) error { n.source = name; return nil }
}

// New returns a Notifier that posts to each of urls, which must be absolute
// http or https URLs, and starts a goroutine per URL.
func New(urls []string, opts ...Option) (*Notifier, error) {
	if len(urls) == 0 {
		return nil, errors.New("webhook: no URL")
	}
	n := &Notifier{
		client:    &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()},
		ownClient: true,
		log:       slog.Default(),
		tries:     DefaultTries,
		minWait:   DefaultMinWait,
		maxWait:   DefaultMaxWait,
		timeout:   DefaultTimeout,
		size:      DefaultQueueSize,
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
			return nil, fmt.Errorf("webhook: URL %d %q: %w", i+1, RedactURL(raw), err)
		case u.Scheme != "http" && u.Scheme != "https":
			return nil, fmt.Errorf("webhook: URL %d %q: scheme is not http or https", i+1, RedactURL(raw))
		case u.Host == "":
			return nil, fmt.Errorf("webhook: URL %d %q: no host", i+1, RedactURL(raw))
		}
		n.receivers = append(n.receivers, &receiver{n: n, url: u, name: RedactURL(raw),
			secrets: secretParts(raw, u), wake: make(chan struct{}, 1)})
	}
	for _, o := range opts {
		if err := o(n); err != nil {
			return nil, fmt.Errorf("webhook: %w", err)
		}
	}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	for _, r := range n.receivers {
		n.wg.Go(func() { r.run(n.quit) })
	}
	go func() {
		n.wg.Wait()
		close(n.done)
	}()
	return n, nil
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
	if e.Account != "" {
		p["account"] = e.Account // the seller's eBay user id (Accounts)
	}
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
// those named like its standard members (id, kind, time, message, source),
// and must encode as JSON. It never blocks.
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
	p["id"], p["kind"], p["time"], p["message"], p["source"] = rand.Text(), kind, t.UTC(), msg, n.source
	body, err := json.Marshal(p)
	if err != nil {
		n.dropAll()
		n.log.Error("webhook: alert dropped: cannot encode it", slog.String("kind", kind), slog.String("error", err.Error()))
		return
	}
	var full []string // receivers whose oldest alert was dropped
	n.mu.Lock()
	closed := n.closed
	if closed {
		n.dropAll()
	} else {
		for _, r := range n.receivers {
			if r.push(body) {
				full = append(full, r.name)
			}
		}
	}
	n.mu.Unlock()
	// Logged after unlocking, so that a slow log does not hold up Close.
	if closed {
		n.log.Warn("webhook: alert dropped: notifier closed", slog.String("kind", kind))
	}
	for _, name := range full {
		n.log.Warn("webhook: oldest alert dropped: queue full", slog.String("receiver", name), slog.Int("size", n.size))
	}
}

// dropAll counts an alert dropped for every receiver.
func (n *Notifier) dropAll() {
	for _, r := range n.receivers {
		r.dropped.Add(1)
	}
}

// Stats reports the deliveries so far, summed over the receivers: each
// alert counts once per receiver, as sent, as failed after its tries, or as
// dropped unsent (its receiver's queue full, the Notifier closed,
// unencodable fields, or left queued when Close gave up). ReceiverStats
// tells the receivers apart.
func (n *Notifier) Stats() (sent, failed, dropped int64) {
	for _, r := range n.receivers {
		sent += r.sent.Load()
		failed += r.failed.Load()
		dropped += r.dropped.Load()
	}
	return sent, failed, dropped
}

// ReceiverStats reports the deliveries so far to each receiver, in the
// order of the URLs given to New.
func (n *Notifier) ReceiverStats() []ReceiverStats {
	out := make([]ReceiverStats, len(n.receivers))
	for i, r := range n.receivers {
		out[i] = r.stats()
	}
	return out
}

// Close stops the Notifier: later alerts are dropped, and those queued are
// delivered first, unless ctx ends, which aborts deliveries in progress
// and drops the rest. When Close returns, every goroutine of the Notifier
// has stopped. It returns ctx's error if ctx ended first. Calling Close
// again is safe.
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
