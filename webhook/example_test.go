package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"time"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/webhook"
)

func ExampleNotifier() {
	secret := []byte("shared secret")
	// A receiver that checks the signature and prints the alert.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil || webhook.Verify(secret, r.Header, body) != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var p struct{ Kind, Message, Source, Error string }
		_ = json.Unmarshal(body, &p)
		fmt.Printf("%s from %s: %s (%s)\n", p.Kind, p.Source, p.Message, p.Error)
	}))
	defer srv.Close()

	n, err := webhook.New([]string{srv.URL}, webhook.WithSecret(secret), webhook.WithSource("lister-1"))
	if err != nil {
		panic(err)
	}
	// As a Manager's Config.OnEvent, Notify sees every event and sends
	// the alert-worthy ones.
	n.Notify(ebayauth.Event{Kind: ebayauth.EventRefreshed})
	n.Notify(ebayauth.Event{Kind: ebayauth.EventRefreshFailed, Err: errors.New("ebayauth: 503 Service Unavailable")})
	if err := n.Close(context.Background()); err != nil {
		panic(err)
	}
	sent, failed, dropped := n.Stats()
	fmt.Println(sent, failed, dropped)
	// Output:
	// refresh_failed from lister-1: eBay token refresh failed (ebayauth: 503 Service Unavailable)
	// 1 0 0
}

// A receiver checks the signature and the timestamp of each request before
// it looks at the alert, and ignores an alert it has already accepted.
func ExampleVerify() {
	secret := []byte("shared secret")
	var (
		mu   sync.Mutex
		seen = map[string]time.Time{} // ids accepted in the last DefaultMaxAge
		last struct {
			header http.Header
			body   []byte
		}
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "cannot read the body", http.StatusBadRequest)
			return
		}
		if err := webhook.Verify(secret, r.Header, body); err != nil {
			http.Error(w, "forbidden", http.StatusForbidden) // 4xx: no retry
			fmt.Println("refused:", err)
			return
		}
		var alert struct{ ID, Kind string }
		if err := json.Unmarshal(body, &alert); err != nil {
			http.Error(w, "not JSON", http.StatusBadRequest)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		for id, at := range seen {
			if time.Since(at) > webhook.DefaultMaxAge {
				delete(seen, id)
			}
		}
		if _, dup := seen[alert.ID]; dup {
			fmt.Println("ignored: already seen")
			return // 2xx: the sender need not try again
		}
		seen[alert.ID] = time.Now()
		last.header, last.body = r.Header.Clone(), body
		fmt.Println("accepted:", alert.Kind)
	}))
	defer srv.Close()

	n, err := webhook.New([]string{srv.URL}, webhook.WithSecret(secret))
	if err != nil {
		panic(err)
	}
	n.Alert("refresh_token_expiring", "the eBay refresh token expires in 10 days", nil)
	if err := n.Close(context.Background()); err != nil {
		panic(err)
	}

	// Someone who recorded the request sends it again at once: the
	// signature holds, the id gives it away.
	replay := func(h http.Header, body []byte) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
		req.Header = h
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
	}
	replay(last.header, last.body)

	// Ten minutes later, the timestamp gives it away; and moving the
	// timestamp breaks the signature.
	later := time.Now().Add(10 * time.Minute)
	err = webhook.VerifyAt(secret, last.header, last.body, later, webhook.DefaultMaxAge)
	fmt.Println(errors.Is(err, webhook.ErrStale))
	moved := last.header.Clone()
	moved.Set(webhook.TimestampHeader, strconv.FormatInt(later.Unix(), 10))
	replay(moved, last.body)
	// Output:
	// accepted: refresh_token_expiring
	// ignored: already seen
	// true
	// refused: webhook: bad signature
}
