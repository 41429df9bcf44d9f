package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/webhook"
)

func ExampleNotifier() {
	secret := []byte("shared secret")
	// A receiver that checks the signature and prints the alert.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body json.RawMessage
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil ||
			!webhook.Verify(secret, body, r.Header.Get(webhook.SignatureHeader)) {
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
