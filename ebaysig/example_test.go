package ebaysig_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/ebaysig"
	"github.com/ebayauth/ebayauth/ebaytest"
)

// eBay's published test vector, reproduced: the key, JWE and request of the
// digital-signature SDKs' tests, signed at their created time.
func ExampleSigner_Sign() {
	priv, err := ebaysig.ParsePrivateKey("-----BEGIN PRIVATE KEY-----\n" +
		"MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF\n" +
		"-----END PRIVATE KEY-----")
	if err != nil {
		log.Fatal(err)
	}
	signer := &ebaysig.Signer{
		Key: ebaysig.Key{JWE: "eyJhbGciOiJBMjU2R0NNS1ciLCJlbmMiOiJBMjU2R0NNIiwiemlwIjoiREVGIiwiaXYiOiJvSzFwdXJNVHQtci14VUwzIiwidGFnIjoiTjB4WjI4ZklZckFmYkd5UWFrTnpjZyJ9.AYdKU7ObIc7Z764OrlKpwUViK8Rphxl0xMP9v2_o9mI.1DbZiSQNRK6pLeIw.Yzp3IDV8RM_h_lMAnwGpMA4DXbaDdmqAh-65kO9xyDgzHD6s0kY3p-yO6oPR9kEcAbjGXIULeQKWVYzbfHKwXTY09Npj_mNuO5yxgZtWnL55uIgP2HL1So2dKkZRK0eyPa6DEXJT71lPtwZtpIGyq9R5h6s3kGMbqA.m4t_MX4VnlXJGx1X_zZ-KQ",
			PrivateKey: priv},
		Clock: ebaytest.NewClock(time.Unix(1663459378, 0)), // nil in production: the system clock
	}
	req, _ := http.NewRequest("POST", "http://localhost:8080/test", strings.NewReader(`{"hello": "world"}`))
	if err := signer.Sign(req); err != nil {
		log.Fatal(err)
	}
	fmt.Println("Content-Digest:", req.Header.Get("Content-Digest"))
	fmt.Println("Signature-Input:", req.Header.Get("Signature-Input"))
	fmt.Println("Signature:", req.Header.Get("Signature"))
	// Output:
	// Content-Digest: sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:
	// Signature-Input: sig1=("content-digest" "x-ebay-signature-key" "@method" "@path" "@authority");created=1663459378
	// Signature: sig1=:gkk7dqudw21DFHDVBoRUWe/F6/2hTEmWRFDBxiN6COD4PjozXziiDFML1nFHu+0UcMXC/niltxzABjnugu4DCA==:
}

// A seller's client: ebayauth's Transport adds the token, the signing
// Transport below it signs what eBay wants signed. The fake eBay stands in
// for apiz.ebay.com.
func ExampleTransport() {
	ebay := ebaytest.NewServer()
	defer ebay.Close()
	seller, err := ebayauth.New(ebayauth.Config{
		ClientID: ebaytest.ClientID, ClientSecret: ebaytest.ClientSecret,
		RefreshToken: ebay.IssueRefreshToken(), // the EU or UK seller's consent
		Endpoint:     ebay.Endpoint(), Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer seller.Close()
	id, jwe, priv := ebay.IssueSigningKey(ebaytest.CipherEd25519) // in production: KeyClient.Create, once

	signer := &ebaysig.Signer{Key: ebaysig.Key{ID: id, JWE: jwe, PrivateKey: priv}}
	client := &http.Client{Transport: seller.Transport(&ebaysig.Transport{Signer: signer})}

	resp, err := client.Get(ebay.URL + "/sell/finances/v1/transaction?limit=20")
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.Status, "signatures verified:", ebay.VerifiedSignatures())
	// Output: 200 OK signatures verified: 1
}

// Creating a signing key needs an application token. eBay returns the
// private key only here: store it at once.
func ExampleKeyClient_Create() {
	ebay := ebaytest.NewServer()
	defer ebay.Close()
	app, err := ebayauth.New(ebayauth.Config{
		ClientID: ebaytest.ClientID, ClientSecret: ebaytest.ClientSecret,
		Endpoint: ebay.Endpoint(), Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer app.Close()

	kc := &ebaysig.KeyClient{HTTPClient: app.Client(), BaseURL: ebay.URL} // BaseURL zero: apiz.ebay.com
	key, err := kc.Create(context.Background(), ebaysig.Ed25519)
	if err != nil {
		log.Fatal(err)
	}
	secret, err := ebaysig.MarshalPrivateKey(key.PrivateKey) // keep it in a secret store
	if err != nil {
		log.Fatal(err)
	}

	// Later, from the store and the key's id:
	priv, err := ebaysig.ParsePrivateKey(secret)
	if err != nil {
		log.Fatal(err)
	}
	info, err := kc.Get(context.Background(), key.ID)
	if err != nil {
		log.Fatal(err)
	}
	again := info.Key(priv)
	fmt.Println(info.Cipher, again.JWE == key.JWE, again.Expiry.Sub(info.Created).Hours()/24, "days")
	fmt.Println(strings.Contains(fmt.Sprint(again), "private=[redacted]"))
	// Output:
	// ED25519 true 1095 days
	// true
}

func ExampleRequiresSignature() {
	for _, c := range []struct{ method, url string }{
		{"GET", "https://apiz.ebay.com/sell/finances/v1/payout?limit=10"},
		{"POST", "https://api.ebay.com/sell/fulfillment/v1/order/12-34567-89012/issue_refund"},
		{"POST", "https://api.ebay.com/post-order/v2/return/5000123456/decide"},
		{"GET", "https://api.ebay.com/buy/browse/v1/item_summary/search?q=drone"},
	} {
		req, _ := http.NewRequest(c.method, c.url, nil)
		fmt.Println(ebaysig.RequiresSignature(req), c.method, req.URL.Path)
	}
	// Output:
	// true GET /sell/finances/v1/payout
	// true POST /sell/fulfillment/v1/order/12-34567-89012/issue_refund
	// true POST /post-order/v2/return/5000123456/decide
	// false GET /buy/browse/v1/item_summary/search
}
