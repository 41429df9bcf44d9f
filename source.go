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

// A TokenSource returns a token. Implementations are safe for concurrent
// use; ctx bounds only the caller's wait.
type TokenSource interface {
	Token(ctx context.Context) (*Token, error)
}

// A Refresher is a TokenSource that can replace a token a server rejected.
// The Transport uses it to heal a 401: Refresh returns a token other than
// rejected, refreshing only if rejected is still the source's current token,
// so that many requests rejected with the same token cause one refresh.
type Refresher interface {
	TokenSource
	Refresh(ctx context.Context, rejected *Token) (*Token, error)
}

// StaticTokenSource returns a TokenSource that always returns t. It is meant
// for tests and for migrating code that holds a token pasted from eBay's
// developer portal; it never refreshes.
func StaticTokenSource(t *Token) TokenSource { return staticSource{t} }

type staticSource struct{ t *Token }

func (s staticSource) Token(context.Context) (*Token, error) {
	if s.t == nil || s.t.AccessToken == "" {
		return nil, ErrNoToken
	}
	return s.t, nil
}

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
	defaultRetryMax     = 3
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
	tok, err := parseTokenResponse(resp.StatusCode, resp.Header.Get("Content-Type"), body, issued, grant)
	if re, ok := err.(*RetrieveError); ok {
		sc := newScrubber(c.ClientID, c.ClientSecret, v.Get("refresh_token"), v.Get("code"))
		re.ErrorCode, re.ErrorDescription = sc.clean(re.ErrorCode), sc.clean(re.ErrorDescription)
	}
	return tok, err
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
	case !validHeaderToken(tr.AccessToken):
		return nil, &RetrieveError{Grant: grant, StatusCode: status, ErrorCode: "malformed_token",
			Err: errors.New("answer's access_token is not a token an HTTP header can carry (space, control or non-ASCII byte, or over 16 KiB)")}
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
		return defaultRetryMax
	}
	return c.RetryMax
}

func (c *Config) endpoint() Endpoint {
	if c.Endpoint == (Endpoint{}) {
		return Production
	}
	return c.Endpoint
}
