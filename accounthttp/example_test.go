package accounthttp_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/accounthttp"
	"github.com/ebayauth/ebayauth/ebaytest"
)

// The fake eBay stands in for api.ebay.com and plays eBay's part: it checks
// the endpoint with a challenge, as eBay does when the endpoint is
// registered, then sends a signed notice for a closed account.
func ExampleNewDeletionHandler() {
	ebay := ebaytest.NewServer()
	defer ebay.Close()

	// The public keys that sign notices are fetched with an application
	// token.
	app, err := ebayauth.New(ebayauth.Config{
		ClientID: ebaytest.ClientID, ClientSecret: ebaytest.ClientSecret,
		Endpoint: ebay.Endpoint(), Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer app.Close()

	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	endpoint := srv.URL + "/ebay/account-deletion"      // os.Getenv("EBAY_DELETION_ENDPOINT")
	const token = "verification-token_0123456789abcdef" // os.Getenv("EBAY_DELETION_VERIFICATION_TOKEN")

	h, err := accounthttp.NewDeletionHandler(accounthttp.DeletionConfig{
		VerificationToken: token,
		Endpoint:          endpoint, // byte for byte as registered at eBay
		Keys:              app.Client(),
		APIURL:            ebay.URL, // leave zero for production
		Delete: func(ctx context.Context, userID string) error {
			fmt.Println("forget seller", userID) // and return nil if unknown
			return nil
		},
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	mux.Handle("/ebay/account-deletion", h)

	ctx := context.Background()
	if err := ebay.VerifyChallenge(ctx, endpoint, token); err != nil {
		log.Fatal(err)
	}
	fmt.Println("challenge answered")
	status, err := ebay.SendDeletionNotice(ctx, endpoint, ebaytest.DefaultUserID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("notice answered", status)
	// Output:
	// challenge answered
	// forget seller k3vQ8nZp2Ls
	// notice answered 204
}

// A seller's browser goes to /ebay/connect, consents on eBay's page (the
// fake consents at once) and comes back to /ebay/accept, where Connect
// trades the code for tokens and asks the Identity API who the seller is.
func ExampleNewOnboardingHandler() {
	ebay := ebaytest.NewServer()
	defer ebay.Close()
	oauth := ebayauth.Config{
		ClientID: ebaytest.ClientID, ClientSecret: ebaytest.ClientSecret,
		RuName: ebaytest.RuName, Endpoint: ebay.Endpoint(),
		Scopes: []string{ebayauth.ScopeAPI + "/sell.inventory", ebayauth.ScopeAPI + "/commerce.identity.readonly"},
	}

	stateKey := make([]byte, 32) // in production: a secret, the same on every replica
	rand.Read(stateKey)
	h, err := accounthttp.NewOnboardingHandler(accounthttp.OnboardingConfig{
		ConsentURL: oauth.AuthCodeURL,
		Connect: func(ctx context.Context, code string) (accounthttp.Seller, error) {
			tok, err := oauth.Exchange(ctx, code)
			if err != nil {
				return accounthttp.Seller{}, err
			}
			// The Identity API (apiz.ebay.com in production) says who
			// consented: key the account by the immutable userId.
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, oauth.Endpoint.APIURL+"/commerce/identity/v1/user/", nil)
			if err != nil {
				return accounthttp.Seller{}, err
			}
			req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return accounthttp.Seller{}, err
			}
			defer resp.Body.Close()
			var u struct{ UserID, Username, RegistrationMarketplaceID string }
			if err := json.NewDecoder(resp.Body).Decode(&u); err != nil {
				return accounthttp.Seller{}, err
			}
			// Save tok.RefreshToken under u.UserID in the account store here.
			fmt.Println("connected", u.UserID, u.Username, u.RegistrationMarketplaceID)
			return accounthttp.Seller{ID: u.UserID, Username: u.Username, Marketplace: u.RegistrationMarketplaceID}, nil
		},
		StateKey: stateKey,
		Logger:   slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/ebay/", h) // /ebay/connect, /ebay/accept, /ebay/declined
	srv := httptest.NewServer(mux)
	defer srv.Close()
	ebay.SetAcceptURL(srv.URL + "/ebay/accept") // at eBay: the RuName's accept URL

	jar, err := cookiejar.New(nil)
	if err != nil {
		log.Fatal(err)
	}
	browser := &http.Client{Jar: jar}
	defer browser.CloseIdleConnections()
	resp, err := browser.Get(srv.URL + "/ebay/connect")
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.Status)
	// Output:
	// connected k3vQ8nZp2Ls test_seller EBAY_US
	// 200 OK
}
