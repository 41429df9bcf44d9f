package webhook

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// ReceiverStats is what a Notifier did for one receiver.
type ReceiverStats struct {
	// Receiver is the receiver's URL cut to its scheme and host (with "/…"
	// when a path or query was cut): a webhook URL often holds a secret.
	Receiver string
	// Sent counts the alerts the receiver accepted; Failed those that it
	// refused or that failed every try; Dropped those that were never
	// tried (queue full, Notifier closed, unencodable fields, or still
	// queued when Close gave up).
	Sent, Failed, Dropped int64
	// Queued counts the alerts waiting, besides the one being tried.
	Queued int
	// LastError is the error of the last try that failed, a
	// *DeliveryError, or nil if none has.
	LastError error
}

// receiver is one webhook URL with its queue and goroutine, so that a
// receiver that does not answer holds up no other.
type receiver struct {
	n       *Notifier
	url     *url.URL
	name    string   // redacted, for logs and errors
	secrets []string // what of the URL errors must not show

	mu      sync.Mutex // guards queue and lastErr
	queue   [][]byte   // bodies, oldest first
	lastErr error

	wake chan struct{} // a body was queued; buffered 1

	sent, failed, dropped atomic.Int64
}

// push queues body, dropping the oldest body if the queue is full, and
// reports whether it did.
func (r *receiver) push(body []byte) (dropped bool) {
	r.mu.Lock()
	full := len(r.queue) >= r.n.size
	if full {
		r.queue[0] = nil
		r.queue = r.queue[1:]
	}
	r.queue = append(r.queue, body)
	r.mu.Unlock()
	if full {
		r.dropped.Add(1)
	}
	select {
	case r.wake <- struct{}{}:
	default:
	}
	return full
}

// pop takes the oldest body from the queue.
func (r *receiver) pop() ([]byte, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.queue) == 0 {
		return nil, false
	}
	b := r.queue[0]
	r.queue[0] = nil
	r.queue = r.queue[1:]
	return b, true
}

func (r *receiver) stats() ReceiverStats {
	r.mu.Lock()
	queued, lastErr := len(r.queue), r.lastErr
	r.mu.Unlock()
	return ReceiverStats{Receiver: r.name, Sent: r.sent.Load(), Failed: r.failed.Load(),
		Dropped: r.dropped.Load(), Queued: queued, LastError: lastErr}
}

// run delivers queued bodies until quit is closed, then those left,
// unless the Notifier's context ends first.
func (r *receiver) run(quit <-chan struct{}) {
	for {
		if r.n.ctx.Err() != nil {
			r.mu.Lock()
			r.dropped.Add(int64(len(r.queue)))
			r.queue = nil
			r.mu.Unlock()
			return
		}
		if body, ok := r.pop(); ok {
			if r.deliver(body) {
				r.sent.Add(1)
			} else {
				r.failed.Add(1)
			}
			continue
		}
		if quit == nil { // closed, and the queue is empty for good
			return
		}
		select {
		case <-r.wake:
		case <-quit:
			quit = nil
		}
	}
}

// deliver posts body, retrying as configured, and reports success.
func (r *receiver) deliver(body []byte) bool {
	n := r.n
	for try := 1; ; try++ {
		err := r.post(body)
		if err == nil {
			return true
		}
		r.mu.Lock()
		r.lastErr = err
		r.mu.Unlock()
		if !err.Temporary() || try >= n.tries || n.ctx.Err() != nil {
			n.log.Error("webhook: alert not delivered", slog.String("receiver", r.name),
				slog.Int("tries", try), slog.String("error", err.Error()))
			return false
		}
		wait := max(n.backoff(try), min(err.RetryAfter, n.maxWait))
		n.log.Debug("webhook: retrying", slog.String("receiver", r.name), slog.Int("try", try),
			slog.Duration("wait", wait), slog.String("error", err.Error()))
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-n.ctx.Done():
			t.Stop()
			n.log.Error("webhook: alert not delivered: notifier closed", slog.String("receiver", r.name))
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

// post makes one try, bounded by the Notifier's timeout.
func (r *receiver) post(body []byte) *DeliveryError {
	n := r.n
	ctx, cancel := context.WithTimeout(n.ctx, n.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url.String(), bytes.NewReader(body))
	if err != nil {
		return &DeliveryError{Receiver: r.name, Err: err, scrub: r.secrets}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "ebayauth-webhook")
	if n.secret != nil {
		// Signed at each try, so that a retry after a long wait is fresh.
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req.Header.Set(TimestampHeader, ts)
		req.Header.Set(SignatureHeader, sign(n.secret, ts, body))
	}
	resp, err := n.client.Do(req)
	if err != nil {
		if ue, ok := err.(*url.Error); ok {
			err = ue.Err // ue.Error() holds the URL, which may hold a secret
		}
		return &DeliveryError{Receiver: r.name, Err: err, scrub: r.secrets, temporary: true}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	e := &DeliveryError{Receiver: r.name, StatusCode: resp.StatusCode, Status: resp.Status,
		temporary: resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		e.RetryAfter = time.Duration(s) * time.Second
	}
	return e
}

// DeliveryError is a try to deliver an alert that failed. Its message
// shows the receiver's scheme and host only, and nothing else of its URL,
// even where Err's own message quotes it (Err is the cause that net/http's
// *url.Error wrapped, whose message quotes the URL whole).
type DeliveryError struct {
	Receiver   string        // the receiver's URL cut by RedactURL, as in ReceiverStats
	StatusCode int           // the receiver's answer; 0 if there was none
	Status     string        // the answer's status line, such as "503 Service Unavailable"
	RetryAfter time.Duration // the answer's Retry-After, if any
	Err        error         // why there was no answer (network error, timeout), if so
	temporary  bool
	scrub      []string // parts of the URL to cut from Err's message
}

func (e *DeliveryError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("webhook: %s: %s", e.Receiver, scrub(e.Err.Error(), e.scrub))
	}
	return fmt.Sprintf("webhook: %s answered %s", e.Receiver, e.Status)
}

func (e *DeliveryError) Unwrap() error { return e.Err }

// Temporary reports whether another try may succeed: after a network
// error, a timeout, a 5xx or a 429 answer.
func (e *DeliveryError) Temporary() bool { return e.temporary }
