package ebayauth

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"time"
)

// Onboarding a seller: send them to AuthCodeURL, trade the code eBay hands
// back for a refresh token with Exchange.

// AuthCodeURL returns the URL of eBay's consent page where a seller grants
// the app access to the account: client id, the RuName as redirect_uri,
// response_type=code, the configured scopes and state (omitted if empty).
// eBay sends the seller back to the app's accept URL with ?code=…&state=….
func (c *Config) AuthCodeURL(state string) string {
	e := c.endpoint()
	v := url.Values{
		"client_id":     {c.ClientID},
		"redirect_uri":  {c.RuName},
		"response_type": {"code"},
		"scope":         {strings.Join(c.Scopes, " ")},
	}
	if state != "" {
		v.Set("state", state)
	}
	sep := "?"
	if strings.Contains(e.AuthURL, "?") {
		sep = "&"
	}
	return e.AuthURL + sep + v.Encode()
}

// Exchange trades an authorization code from eBay's consent redirect for a
// user token and a refresh token (Token.RefreshToken, valid about 18
// months). code may also be the whole redirect URL; its code parameter is
// used. Codes live 299 seconds and are single use; a bad, expired or reused
// code is an error matching ErrInvalidGrant.
func (c *Config) Exchange(ctx context.Context, code string) (*Token, error) {
	if u, err := url.Parse(code); err == nil && u.Scheme != "" && u.Query().Get("code") != "" {
		code = u.Query().Get("code")
	}
	if code == "" {
		return nil, errors.New("ebayauth: Exchange: empty authorization code")
	}
	if c.RuName == "" {
		return nil, errors.New("ebayauth: Exchange: Config.RuName is empty (eBay wants the RuName as redirect_uri)")
	}
	if err := c.checkCredentials(); err != nil {
		return nil, err
	}
	cc := *c
	cc.Endpoint = c.endpoint()
	v := url.Values{
		"grant_type":   {GrantAuthorizationCode},
		"code":         {code},
		"redirect_uri": {c.RuName},
	}
	now := time.Now
	if c.Clock != nil {
		now = c.Clock.Now
	}
	return cc.retrieve(ctx, c.httpClient(), v, now)
}
