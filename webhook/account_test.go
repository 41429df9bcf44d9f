package webhook_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/webhook"
)

// TestAlertNamesTheSeller: an invalid_grant or refresh_token_expiring event
// from a seller's Manager (Accounts) names the seller's eBay user id, so an
// operator knows whom to ask for a new consent.
func TestAlertNamesTheSeller(t *testing.T) {
	var mu sync.Mutex
	var got []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var p map[string]any
		if err := json.Unmarshal(b, &p); err != nil {
			t.Errorf("payload: %v", err)
		}
		mu.Lock()
		got = append(got, p)
		mu.Unlock()
	}))
	defer srv.Close()
	n, err := webhook.New([]string{srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	n.Notify(ebayauth.Event{Kind: ebayauth.EventInvalidGrant, Account: "hX3kq7Pz", Time: time.Now()})
	n.Notify(ebayauth.Event{Kind: ebayauth.EventRefreshTokenExpiring, Account: "k9Lm2", Time: time.Now(), Expiry: time.Now().Add(72 * time.Hour)})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.Close(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || got[0]["kind"] != "invalid_grant" || got[0]["account"] != "hX3kq7Pz" ||
		got[1]["kind"] != "refresh_token_expiring" || got[1]["account"] != "k9Lm2" {
		t.Errorf("alerts = %v; want invalid_grant for hX3kq7Pz and refresh_token_expiring for k9Lm2", got)
	}
}
