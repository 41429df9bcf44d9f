package ebayauth

// Endpoint is where an eBay environment answers: its OAuth token endpoint,
// its user-consent page and the base URL of its REST APIs.
type Endpoint struct {
	TokenURL string // e.g. "https://api.ebay.com/identity/v1/oauth2/token"
	AuthURL  string // e.g. "https://auth.ebay.com/oauth2/authorize"
	APIURL   string // e.g. "https://api.ebay.com", no trailing slash
}

// Production and Sandbox are eBay's two environments. A token only works in
// the environment that issued it.
var (
	Production = Endpoint{
		TokenURL: "https://api.ebay.com/identity/v1/oauth2/token",
		AuthURL:  "https://auth.ebay.com/oauth2/authorize",
		APIURL:   "https://api.ebay.com",
	}
	Sandbox = Endpoint{
		TokenURL: "https://api.sandbox.ebay.com/identity/v1/oauth2/token",
		AuthURL:  "https://auth.sandbox.ebay.com/oauth2/authorize",
		APIURL:   "https://api.sandbox.ebay.com",
	}
)

// ScopeAPI is the public scope every application token needs for the Buy
// APIs such as Browse.
const ScopeAPI = "https://api.ebay.com/oauth/api_scope"

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
