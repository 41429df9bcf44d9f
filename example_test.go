package ebayauth_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/ebaytest"
)

// The fake eBay stands in for api.ebay.com; in production leave Endpoint
// zero (or set ebayauth.Sandbox) and use your keyset's App ID and Cert ID.
func ExampleManager_Client() {
	ebay := ebaytest.NewServer()
	defer ebay.Close()

	m, err := ebayauth.New(ebayauth.Config{
		ClientID:     ebaytest.ClientID,     // App ID
		ClientSecret: ebaytest.ClientSecret, // Cert ID
		Endpoint:     ebay.Endpoint(),
		Logger:       slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()

	client := m.Client() // every request to eBay now carries a valid token
	resp, err := client.Get(ebay.URL + "/buy/browse/v1/item_summary/search?q=camera&limit=1")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	fmt.Println(resp.Status)
	fmt.Println("tokens minted:", ebay.Mints(ebaytest.GrantClientCredentials))
	// Output:
	// 200 OK
	// tokens minted: 1
}

// A Transport wraps any RoundTripper, for instance one an existing
// http.Client already has.
func ExampleTransport() {
	ebay := ebaytest.NewServer()
	defer ebay.Close()
	m, err := ebayauth.New(ebayauth.Config{
		ClientID: ebaytest.ClientID, ClientSecret: ebaytest.ClientSecret,
		Endpoint: ebay.Endpoint(), Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()

	client := &http.Client{Transport: m.Transport(http.DefaultTransport)}
	resp, err := client.Get(ebay.URL + "/buy/browse/v1/item_summary/search?q=camera")
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	auth := ebay.AuthHeaders()[0]
	fmt.Println(resp.StatusCode, auth[:len("Bearer v^1.1#")])
	// Output: 200 Bearer v^1.1#
}

// A user token: the refresh token comes from the seller's consent
// (Config.Exchange) and lives about 18 months.
func ExampleManager_Token_userToken() {
	ebay := ebaytest.NewServer()
	defer ebay.Close()
	m, err := ebayauth.New(ebayauth.Config{
		ClientID: ebaytest.ClientID, ClientSecret: ebaytest.ClientSecret,
		RefreshToken: ebay.IssueRefreshToken(ebayauth.ScopeAPI + "/sell.inventory"),
		Scopes:       []string{ebayauth.ScopeAPI + "/sell.inventory"},
		Endpoint:     ebay.Endpoint(), Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	tok, err := m.Token(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.TokenType, m.Status().State)
	// Output: User Access Token fresh
}

func ExampleManager_ForceRefresh() {
	ebay := ebaytest.NewServer()
	defer ebay.Close()
	m, err := ebayauth.New(ebayauth.Config{
		ClientID: ebaytest.ClientID, ClientSecret: ebaytest.ClientSecret,
		Endpoint: ebay.Endpoint(), Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	old, _ := m.Token(context.Background())
	ebay.RevokeAll() // eBay revoked it, say

	tok, err := m.ForceRefresh(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("replaced:", tok.AccessToken != old.AccessToken, "valid:", ebay.ValidToken(tok.AccessToken))
	// Output: replaced: true valid: true
}

// Onboarding a seller: send them to the consent page, then trade the code
// eBay hands back for a refresh token.
func ExampleConfig_Exchange() {
	ebay := ebaytest.NewServer()
	defer ebay.Close()
	cfg := ebayauth.Config{
		ClientID: ebaytest.ClientID, ClientSecret: ebaytest.ClientSecret,
		RuName: ebaytest.RuName, Endpoint: ebay.Endpoint(),
		Scopes: []string{ebayauth.ScopeAPI + "/sell.inventory"},
	}
	_ = cfg.AuthCodeURL("opaque-state") // redirect the seller here

	code := ebay.IssueCode(ebayauth.ScopeAPI + "/sell.inventory") // what eBay's redirect carries
	tok, err := cfg.Exchange(context.Background(), code)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.TokenType, tok.RefreshToken != "")
	// Output: User Access Token true
}
