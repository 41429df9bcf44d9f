package ebayauth

import "strings"

// Endpoint is where an eBay environment answers: its OAuth token endpoint,
// its user-consent page and the base URLs of its REST APIs.
type Endpoint struct {
	TokenURL string // e.g. "https://api.ebay.com/identity/v1/oauth2/token"
	AuthURL  string // e.g. "https://auth.ebay.com/oauth2/authorize"
	APIURL   string // e.g. "https://api.ebay.com", no trailing slash
	// APIZURL is the host of the Identity, Finances and Key Management
	// APIs, e.g. "https://apiz.ebay.com". Empty: APIURL.
	APIZURL string
}

// apiz is e.APIZURL, or APIURL if that is empty, without a trailing slash.
func (e Endpoint) apiz() string {
	if e.APIZURL != "" {
		return strings.TrimSuffix(e.APIZURL, "/")
	}
	return strings.TrimSuffix(e.APIURL, "/")
}

// Production and Sandbox are eBay's two environments. A token only works in
// the environment that issued it.
var (
	Production = Endpoint{
		TokenURL: "https://api.ebay.com/identity/v1/oauth2/token",
		AuthURL:  "https://auth.ebay.com/oauth2/authorize",
		APIURL:   "https://api.ebay.com",
		APIZURL:  "https://apiz.ebay.com",
	}
	Sandbox = Endpoint{
		TokenURL: "https://api.sandbox.ebay.com/identity/v1/oauth2/token",
		AuthURL:  "https://auth.sandbox.ebay.com/oauth2/authorize",
		APIURL:   "https://api.sandbox.ebay.com",
		APIZURL:  "https://apiz.sandbox.ebay.com",
	}
)

// ScopeAPI is the public scope every application token needs for the Buy
// APIs such as Browse.
const ScopeAPI = "https://api.ebay.com/oauth/api_scope"

// ScopeIdentity lets a user token read who the seller is (Identity API
// getUser): Accounts asks for it at every consent.
const ScopeIdentity = "https://api.ebay.com/oauth/api_scope/commerce.identity.readonly"

// environment names e for status output and cache keys.
func (e Endpoint) environment() string {
	switch e {
	case Production:
		return "production"
	case Sandbox:
		return "sandbox"
	}
	return "custom"
}
