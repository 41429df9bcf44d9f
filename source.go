package ebayauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-cleanhttp"
	"github.com/hashicorp/go-retryablehttp"
)

// The grant types of eBay's token endpoint.
const (
	GrantClientCredentials = "client_credentials" // application token
	GrantRefreshToken      = "refresh_token"      // user token from a refresh token
	GrantAuthorizationCode = "authorization_code" // user token + refresh token from a consent code
)

// maxTokenResponse caps how much of a token-endpoint answer is read.
const maxTokenResponse = 1 << 20

// Default retry policy of the token-endpoint client.
const (
	DefaultRetryMax     = 3
	defaultRetryWaitMin = 200 * time.Millisecond
	defaultRetryWaitMax = 3 * time.Second
)

// NewRetryingClient returns the *http.Client the Manager uses for eBay's
// token endpoint when Config.HTTPClient is nil: go-retryablehttp retrying
// network errors, 429 and 5xx (never another 4xx) up to retryMax times with
// jittered exponential backoff, stopping as soon as the request's context
// ends. The last answer is returned as it came so its error body can be read.
// All such clients share one connection pool.
func NewRetryingClient(retryMax int) *http.Client {
	rc := retryablehttp.NewClient()
	rc.HTTPClient = &http.Client{Transport: sharedTokenTransport(), Timeout: 30 * time.Second}
	rc.Logger = nil
	rc.RetryMax = max(retryMax, 0)
	rc.RetryWaitMin = defaultRetryWaitMin
	rc.RetryWaitMax = defaultRetryWaitMax
	rc.CheckRetry = retryablehttp.DefaultRetryPolicy
	rc.Backoff = cappedBackoff
	rc.ErrorHandler = retryablehttp.PassthroughErrorHandler
	return rc.StandardClient()
}

// sharedTokenTransport is the connection pool of every retrying client, so
// that 10,000 Managers (one per seller) hold idle connections to eBay's token
// endpoint once, not once each.
var sharedTokenTransport = sync.OnceValue(func() *http.Transport { return cleanhttp.DefaultPooledTransport() })

// cappedBackoff is retryablehttp's exponential backoff with jitter, never
// longer than max even if a Retry-After header asks for more: a refresh that
// waits minutes is better abandoned and retried by the cache core's backoff.
func cappedBackoff(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
	d := retryablehttp.DefaultBackoff(min, max, attempt, resp)
	if d > max {
		d = max
	}
	return d
}

// tokenResponse is every field eBay's token endpoint may answer with,
// successes and errors alike.
type tokenResponse struct {
	AccessToken           string           `json:"access_token"`
	ExpiresIn             *int64           `json:"expires_in"`
	TokenType             string           `json:"token_type"`
	RefreshToken          string           `json:"refresh_token"`
	RefreshTokenExpiresIn int64            `json:"refresh_token_expires_in"`
	Error                 string           `json:"error"`
	ErrorDescription      string           `json:"error_description"`
	Errors                []APIErrorDetail `json:"errors"`
}

// retrieve posts form v to the token endpoint of c and parses the answer.
// issued is the time the request was sent: expiries count from it, so a
// slow answer only makes the token look shorter-lived, never longer.
func (c *Config) retrieve(ctx context.Context, hc *http.Client, v url.Values, now func() time.Time) (*Token, error) {
	grant := v.Get("grant_type")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Endpoint.TokenURL, strings.NewReader(v.Encode()))
	if err != nil {
		return nil, &RetrieveError{Grant: grant, Err: err}
	}
	req.SetBasicAuth(c.ClientID, c.ClientSecret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	issued := now()
	resp, err := hc.Do(req)
	if err != nil {
		return nil, &RetrieveError{Grant: grant, Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenResponse+1))
	if err != nil {
		return nil, &RetrieveError{Grant: grant, StatusCode: resp.StatusCode, Err: fmt.Errorf("reading response: %w", err)}
	}
	if len(body) > maxTokenResponse {
		return nil, &RetrieveError{Grant: grant, StatusCode: resp.StatusCode, Err: errors.New("response larger than 1 MiB")}
	}
	return parseTokenResponse(resp.StatusCode, resp.Header.Get("Content-Type"), body, issued, grant)
}

// parseTokenResponse turns an answer of eBay's token endpoint into a Token
// or a *RetrieveError. It never includes the body itself in an error: a
// body may hold a token.
func parseTokenResponse(status int, contentType string, body []byte, issued time.Time, grant string) (*Token, error) {
	fail := func(err error) error {
		return &RetrieveError{Grant: grant, StatusCode: status, Err: err}
	}
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		mt, _, _ := mime.ParseMediaType(contentType)
		if mt == "" {
			mt = "no content type"
		}
		if status == http.StatusOK {
			return nil, fail(fmt.Errorf("answer is not JSON (%s, %d bytes)", mt, len(body)))
		}
		return nil, &RetrieveError{Grant: grant, StatusCode: status, ErrorDescription: fmt.Sprintf("non-JSON answer (%s, %d bytes)", mt, len(body))}
	}
	if status != http.StatusOK {
		e := &RetrieveError{Grant: grant, StatusCode: status, ErrorCode: tr.Error, ErrorDescription: tr.ErrorDescription}
		if e.ErrorCode == "" && len(tr.Errors) > 0 {
			e.ErrorCode = fmt.Sprintf("errorId %d", tr.Errors[0].ErrorID)
			e.ErrorDescription = tr.Errors[0].Message
		}
		return nil, e
	}
	switch {
	case tr.Error != "":
		return nil, &RetrieveError{Grant: grant, StatusCode: status, ErrorCode: tr.Error, ErrorDescription: tr.ErrorDescription}
	case tr.AccessToken == "":
		return nil, fail(errors.New("answer has no access_token"))
	case tr.ExpiresIn == nil:
		return nil, fail(errors.New("answer has no expires_in"))
	case *tr.ExpiresIn <= 0 || *tr.ExpiresIn > 10*365*24*3600:
		return nil, fail(fmt.Errorf("answer has expires_in %d", *tr.ExpiresIn))
	}
	// Expiries drop the monotonic clock reading (Round(0)) so that they are
	// compared by the wall clock: a machine that was suspended for hours
	// must not think its token still fresh, as the monotonic clock would.
	issued = issued.Round(0)
	t := &Token{
		AccessToken: tr.AccessToken,
		TokenType:   tr.TokenType,
		Expiry:      issued.Add(time.Duration(*tr.ExpiresIn) * time.Second),
	}
	// eBay does not rotate refresh tokens; old application-token answers
	// carried "refresh_token":"N/A", which is not a token.
	if tr.RefreshToken != "" && tr.RefreshToken != "N/A" && grant == GrantAuthorizationCode {
		t.RefreshToken = tr.RefreshToken
		if tr.RefreshTokenExpiresIn > 0 {
			t.RefreshTokenExpiry = issued.Add(time.Duration(tr.RefreshTokenExpiresIn) * time.Second)
		}
	}
	return t, nil
}

// grantValues is the form a Manager configured by c posts to mint a token.
func (c *Config) grantValues() url.Values {
	v := url.Values{}
	if c.RefreshToken == "" {
		v.Set("grant_type", GrantClientCredentials)
		v.Set("scope", strings.Join(c.Scopes, " "))
		return v
	}
	v.Set("grant_type", GrantRefreshToken)
	v.Set("refresh_token", c.RefreshToken)
	if len(c.Scopes) > 0 {
		v.Set("scope", strings.Join(c.Scopes, " "))
	}
	return v
}

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

func (c *Config) httpClient() *http.Client {
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	return NewRetryingClient(c.retryMax())
}

func (c *Config) retryMax() int {
	switch {
	case c.RetryMax < 0:
		return 0
	case c.RetryMax == 0:
		return DefaultRetryMax
	}
	return c.RetryMax
}

func (c *Config) endpoint() Endpoint {
	if c.Endpoint == (Endpoint{}) {
		return Production
	}
	return c.Endpoint
}
