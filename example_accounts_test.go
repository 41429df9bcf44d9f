package ebayauth_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/ebaytest"
)

// Accounts keeps a user token per seller. Here the fake eBay plays a seller
// who consents; in production the code comes back to your accept URL (see
// package accounthttp) and the store is pgstore or filestore.
func ExampleAccounts() {
	ebay := ebaytest.NewServer()
	defer ebay.Close()
	ebay.AddUser(ebaytest.User{ID: "hX3kq7Pz", Username: "vintage_cameras_uk", Marketplace: "EBAY_GB"})

	accounts, err := ebayauth.NewAccounts(ebayauth.Config{
		ClientID: ebaytest.ClientID, ClientSecret: ebaytest.ClientSecret, RuName: ebaytest.RuName,
		Endpoint: ebay.Endpoint(), Logger: slog.New(slog.DiscardHandler),
		Scopes: []string{ebayauth.ScopeAPI + "/sell.inventory"},
	}, ebayauth.NewMemoryStore())
	if err != nil {
		log.Fatal(err)
	}
	defer accounts.Close()

	// The seller consents; eBay hands back a code.
	code := ebay.IssueCodeFor("hX3kq7Pz", ebayauth.ScopeAPI+"/sell.inventory", ebayauth.ScopeIdentity)
	acct, err := accounts.Connect(context.Background(), code)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("connected", acct.ID, acct.Username, acct.Marketplace)

	// Requests act for the seller their context names.
	ctx := ebayauth.WithAccount(context.Background(), acct.ID)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ebay.URL+"/commerce/identity/v1/user/", nil)
	resp, err := accounts.Client().Do(req)
	if err != nil {
		log.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	fmt.Println(resp.Status)

	// The seller changes their password: eBay refuses the refresh token.
	ebay.RevokeUser(acct.ID)
	m, _ := accounts.Manager(context.Background(), acct.ID)
	_, err = m.ForceRefresh(context.Background())
	fmt.Println(errors.Is(err, ebayauth.ErrInvalidGrant))
	_, err = accounts.Token(context.Background(), acct.ID)
	fmt.Println(errors.Is(err, ebayauth.ErrConsentRequired))
	// Output:
	// connected hX3kq7Pz vintage_cameras_uk EBAY_GB
	// 200 OK
	// true
	// true
}
