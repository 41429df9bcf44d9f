package webhook_test

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/ebayauth/ebayauth/webhook"
)

// signedRequest has a Notifier sign and send one alert, and returns the
// request as the receiver got it, with the time it was signed at.
func signedRequest(t *testing.T, secret []byte) (request, time.Time) {
	t.Helper()
	r := newReceiver(t, ok)
	n := newNotifier(t, []string{r.URL}, webhook.WithSecret(secret))
	n.Alert("a", "m", nil)
	closeNotifier(t, n)
	reqs := r.received()
	if len(reqs) != 1 {
		t.Fatalf("got %d requests; want 1", len(reqs))
	}
	ts := reqs[0].header.Get(webhook.TimestampHeader)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		t.Fatalf("%s %q: %v", webhook.TimestampHeader, ts, err)
	}
	return reqs[0], time.Unix(sec, 0)
}

func TestVerify(t *testing.T) {
	secret := []byte("s3cret")
	req, sent := signedRequest(t, secret)
	unix := func(d time.Duration) string { return strconv.FormatInt(sent.Add(d).Unix(), 10) }
	for _, tc := range []struct {
		name   string
		secret []byte
		set    map[string]string // headers changed, "" deleting
		body   string            // if not empty, the body instead
		now    time.Duration     // the receiver's clock, from the time of sending
		maxAge time.Duration
		want   error
	}{
		{name: "fresh", now: 0},
		{name: "a second late", now: time.Second},
		{name: "late, within the max age", now: webhook.DefaultMaxAge},
		{name: "receiver's clock behind", now: -webhook.DefaultMaxAge},
		{name: "replayed later", now: webhook.DefaultMaxAge + time.Second, want: webhook.ErrStale},
		{name: "replayed an hour later", now: time.Hour, want: webhook.ErrStale},
		{name: "receiver's clock far behind", now: -webhook.DefaultMaxAge - time.Second, want: webhook.ErrStale},
		{name: "own max age", now: 2 * time.Minute, maxAge: time.Minute, want: webhook.ErrStale},
		{name: "own max age, within", now: 2 * time.Minute, maxAge: 3 * time.Minute},
		{name: "replayed with the timestamp moved", now: time.Hour,
			set: map[string]string{webhook.TimestampHeader: unix(time.Hour)}, want: webhook.ErrBadSignature},
		{name: "timestamp moved a second", set: map[string]string{webhook.TimestampHeader: unix(time.Second)},
			want: webhook.ErrBadSignature},
		{name: "timestamp not a number", set: map[string]string{webhook.TimestampHeader: "yesterday"},
			want: webhook.ErrBadSignature},
		{name: "body changed", body: `{"kind":"other"}`, want: webhook.ErrBadSignature},
		{name: "other secret", secret: []byte("other"), want: webhook.ErrBadSignature},
		{name: "no secret", secret: []byte{}, want: webhook.ErrBadSignature},
		{name: "old sha256= scheme", set: map[string]string{webhook.SignatureHeader: "sha256=00"},
			want: webhook.ErrBadSignature},
		{name: "signature not hex", set: map[string]string{webhook.SignatureHeader: "v1=zz"},
			want: webhook.ErrBadSignature},
		{name: "no signature", set: map[string]string{webhook.SignatureHeader: ""}, want: webhook.ErrUnsigned},
		{name: "no timestamp", set: map[string]string{webhook.TimestampHeader: ""}, want: webhook.ErrUnsigned},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := req.header.Clone()
			for k, v := range tc.set {
				if v == "" {
					h.Del(k)
				} else {
					h.Set(k, v)
				}
			}
			body := req.body
			if tc.body != "" {
				body = []byte(tc.body)
			}
			key := secret
			if tc.secret != nil {
				key = tc.secret
			}
			err := webhook.VerifyAt(key, h, body, sent.Add(tc.now), tc.maxAge)
			if tc.want == nil && err != nil || !errors.Is(err, tc.want) {
				t.Errorf("VerifyAt = %v; want %v", err, tc.want)
			}
		})
	}
}

// TestVerifyNow: Verify reads the clock; a request just sent passes.
func TestVerifyNow(t *testing.T) {
	secret := []byte("s3cret")
	req, _ := signedRequest(t, secret)
	if err := webhook.Verify(secret, req.header, req.body); err != nil {
		t.Errorf("Verify = %v; want nil", err)
	}
}
