package bench

import (
	"context"
	"net/http"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/ebayauth/ebayauth"
)

// Instant is a RoundTripper that answers every request at once with Resp,
// so that a benchmark measures only the middleware above it. It neither
// allocates nor locks. Resp must not be modified once in use.
type Instant struct{ Resp *http.Response }

var _ http.RoundTripper = Instant{}

// NewInstant returns an Instant answering 200 with an empty body.
func NewInstant() Instant {
	return Instant{Resp: &http.Response{
		Status:     "200 OK",
		StatusCode: http.StatusOK,
		Proto:      "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{},
		Body:   http.NoBody,
	}}
}

// RoundTrip implements http.RoundTripper.
func (t Instant) RoundTrip(*http.Request) (*http.Response, error) { return t.Resp, nil }

// Floor is the least any token middleware can do: clone the request, as
// the RoundTripper contract asks, and set one header to a value built once.
type Floor struct {
	Header string // "Bearer <token>"
	Base   http.RoundTripper
}

var _ http.RoundTripper = (*Floor)(nil)

// RoundTrip implements http.RoundTripper.
func (t *Floor) RoundTrip(req *http.Request) (*http.Response, error) {
	r2 := req.Clone(req.Context())
	r2.Header.Set("Authorization", t.Header)
	return t.Base.RoundTrip(r2)
}

// BearerSource is an oauth2.TokenSource that patches TokenType to "Bearer".
//
// This is the trap of x/oauth2 with eBay: eBay's token endpoint answers
// token_type "Application Access Token" (or "User Access Token"), and
// oauth2.Token.SetAuthHeader writes the type as the scheme, so every request
// would carry "Authorization: Application Access Token v^1.1#…" and eBay
// answers 400 with errorId 1003. Without the patch x/oauth2 does not work
// with eBay at all.
type BearerSource struct{ Src oauth2.TokenSource }

// Token implements oauth2.TokenSource.
func (s BearerSource) Token() (*oauth2.Token, error) {
	t, err := s.Src.Token()
	if err != nil {
		return nil, err
	}
	t2 := *t
	t2.TokenType = "Bearer"
	return &t2, nil
}

// mintOnce is an oauth2.TokenSource that asks the token endpoint for a new
// application token on every call, as clientcredentials.Config.Token does.
type mintOnce struct {
	ctx context.Context
	cfg *clientcredentials.Config
}

func (s mintOnce) Token() (*oauth2.Token, error) { return s.cfg.Token(s.ctx) }

// OAuth2Source returns the token source an x/oauth2 user would write for
// eBay's client_credentials grant at e: a fresh mint per call, with the
// token type patched to Bearer. Wrap it in oauth2.ReuseTokenSource to
// cache it. tokenClient (nil: http.DefaultClient) calls the token endpoint.
func OAuth2Source(e ebayauth.Endpoint, clientID, clientSecret string, tokenClient *http.Client) oauth2.TokenSource {
	ctx := context.Background()
	if tokenClient != nil {
		ctx = context.WithValue(ctx, oauth2.HTTPClient, tokenClient)
	}
	cfg := &clientcredentials.Config{
		ClientID:     clientID,
		ClientSecret: clientSecret,
		TokenURL:     e.TokenURL,
		Scopes:       []string{ebayauth.ScopeAPI},
		AuthStyle:    oauth2.AuthStyleInHeader,
	}
	return BearerSource{mintOnce{ctx, cfg}}
}

// OAuth2Transport is x/oauth2's Transport over ReuseTokenSource, the way
// oauth2.NewClient builds it. earlyExpiry is how long before expiry the
// cached token is replaced; zero means x/oauth2's default of 10 s (which
// would mint on every call with tokens shorter than that).
func OAuth2Transport(src oauth2.TokenSource, earlyExpiry time.Duration, base http.RoundTripper) *oauth2.Transport {
	reuse := oauth2.ReuseTokenSource(nil, src)
	if earlyExpiry != 0 {
		reuse = oauth2.ReuseTokenSourceWithExpiry(nil, src, earlyExpiry)
	}
	return &oauth2.Transport{Source: reuse, Base: base}
}
