package accounthttp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/accounthttp"
	"github.com/ebayauth/ebayauth/ebaytest"
	"github.com/ebayauth/ebayauth/internal/syncbuf"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Sellers the fake knows besides its default one.
var gbSeller = ebaytest.User{ID: "Gb7Ys2kWq1A", Username: "uk_shop", AccountType: "BUSINESS", Marketplace: "EBAY_GB"}

// newEbay starts a fake eBay driven by a fake clock, with gbSeller added.
func newEbay(t *testing.T) (*ebaytest.Server, *ebaytest.Clock) {
	t.Helper()
	ebay := ebaytest.NewServer()
	t.Cleanup(ebay.Close)
	clock := ebaytest.NewClock(time.Now())
	ebay.SetNow(clock.Now)
	ebay.AddUser(gbSeller)
	return ebay, clock
}

// appManager returns a Manager minting application tokens from ebay, on
// the clock that drives ebay.
func appManager(t *testing.T, ebay *ebaytest.Server, clock *ebaytest.Clock) *ebayauth.Manager {
	t.Helper()
	m, err := ebayauth.New(ebayauth.Config{
		ClientID:     ebaytest.ClientID,
		ClientSecret: ebaytest.ClientSecret,
		Endpoint:     ebay.Endpoint(),
		HTTPClient:   ebay.Client(),
		Clock:        clock,
		Logger:       slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// newLogger returns a logger writing JSON at Debug level into a buffer.
func newLogger() (*slog.Logger, *syncbuf.Buffer) {
	buf := new(syncbuf.Buffer)
	return slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// serve starts a loopback server whose handler is made from its own URL
// (handlers that must know their public URL need it before they exist).
func serve(t *testing.T, tls bool, handler func(url string) http.Handler) *httptest.Server {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	scheme := "http://"
	if tls {
		scheme = "https://"
	}
	ts.Config.Handler = handler(scheme + ts.Listener.Addr().String())
	if tls {
		ts.StartTLS()
	} else {
		ts.Start()
	}
	t.Cleanup(ts.Close)
	return ts
}

// browser is an HTTP client with a cookie jar, like a seller's browser.
type browser struct {
	*http.Client
	tr *http.Transport
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &browser{&http.Client{Jar: jar, Transport: tr}, tr}
}

// get fetches u, following redirects unless stop says to stop before
// one, and returns the final response's status, headers and body.
func (b *browser) get(t *testing.T, u string, stop func(*http.Request) bool) (int, http.Header, string) {
	t.Helper()
	c := *b.Client
	c.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		if stop != nil && stop(req) {
			return http.ErrUseLastResponse
		}
		return nil
	}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(body)
}

// getUser asks the Identity API who the seller owning the user token is.
func getUser(ctx context.Context, client *http.Client, apiURL, token string) (accounthttp.Seller, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, apiURL+"/commerce/identity/v1/user/", nil)
	if err != nil {
		return accounthttp.Seller{}, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return accounthttp.Seller{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return accounthttp.Seller{}, fmt.Errorf("getUser: %s", resp.Status)
	}
	var u struct {
		UserID                    string `json:"userId"`
		Username                  string `json:"username"`
		RegistrationMarketplaceID string `json:"registrationMarketplaceId"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&u); err != nil {
		return accounthttp.Seller{}, err
	}
	return accounthttp.Seller{ID: u.UserID, Username: u.Username, Marketplace: u.RegistrationMarketplaceID}, nil
}

// noSecrets fails t if text contains any of secrets.
func noSecrets(t *testing.T, what, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("%s contains the secret %.12q…", what, s)
		}
	}
}
