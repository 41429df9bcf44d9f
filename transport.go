package ebayauth

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
)

// Transport is an http.RoundTripper that puts "Authorization: Bearer
// <token>" on every request to an allowed host, and on nothing else, and
// heals a 401 once.
//
// A request to any other host, including a redirect hop away from eBay,
// passes to Base untouched. If eBay answers 401 and Source is a Refresher,
// the token the request used is replaced (only if it is still current, so a
// burst of 401s costs one refresh), the body is replayed through
// req.GetBody, and the second answer is returned. A request whose body
// cannot be replayed gets the 401.
//
// The header always uses the Bearer scheme, whatever eBay's token_type
// says: eBay answers errorId 1003 to "Application Access Token v^1.1…".
//
// A Transport is safe for concurrent use. Do not change its fields after
// first use (its fields are read once), and do not copy it after first use.
type Transport struct {
	// Source supplies the token. Required.
	Source TokenSource
	// Base makes the requests. Nil: http.DefaultTransport.
	Base http.RoundTripper
	// AllowedHosts receive the token: "host" (any port), "host:port", or
	// "*.domain" (any subdomain). Nil: DefaultAllowedHosts(Production).
	AllowedHosts []string
	// AllowHTTPHosts are allowed hosts that may get the token over plain
	// http. The token goes over https only, except to a loopback host
	// (localhost, 127.0.0.0/8, ::1) or to these; a request that would send
	// it over http elsewhere fails and nothing is sent. Nil: none.
	AllowHTTPHosts []string

	resolved atomic.Pointer[resolved] // the fields, read on first use
}

// resolved is what a Transport works out from its fields once: the hosts
// parsed, and the Source's authorizer if it has one.
type resolved struct {
	policy *tokenPolicy
	auth   authorizer // nil: Source is a plain TokenSource
}

var _ http.RoundTripper = (*Transport)(nil)

// authorizer is a TokenSource that hands the Transport the header value it
// built once with the token, so that the hot path allocates nothing, and
// hears of the 401s the Transport healed. Manager implements it.
type authorizer interface {
	TokenSource
	authorize(ctx context.Context) (tok *Token, header string, err error)
	retried401(ctx context.Context, tok *Token)
}

// defaultHosts are the allowed hosts of a Transport without AllowedHosts.
var defaultHosts, _ = parseHosts(DefaultAllowedHosts(Production))

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	r, err := t.resolve()
	if err != nil {
		closeBody(req)
		return nil, err
	}
	if ok, err := r.policy.check(req.URL); err != nil {
		closeBody(req)
		return nil, err
	} else if !ok {
		return t.base().RoundTrip(req)
	}
	tok, header, err := t.token(req.Context(), r.auth)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	trading := isTrading(req.URL.Path)
	r2 := req.Clone(req.Context())
	setToken(r2, tok, header, trading)
	resp, err := t.base().RoundTrip(r2)
	if err != nil {
		return resp, err
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return t.retry(req, tok, resp, true)
	case trading && resp.StatusCode == http.StatusOK && tradingTokenRefused(resp):
		return t.retry(req, tok, resp, true)
	case resp.StatusCode == http.StatusForbidden && accessDenied(resp):
		return t.retry(req, tok, resp, false)
	}
	return resp, nil
}

// setToken puts tok on r: in X-EBAY-API-IAF-TOKEN for the Trading API,
// which takes an OAuth token there, else as "Authorization: Bearer".
func setToken(r *http.Request, tok *Token, header string, trading bool) {
	if trading {
		r.Header.Set("X-EBAY-API-IAF-TOKEN", tok.AccessToken)
		return
	}
	r.Header.Set("Authorization", header)
}

// retry replays req with another token after resp, eBay's refusal of tok:
// with refresh, a replacement for tok (a 401, or the Trading API's
// expired-token error); without, only the current token if it is no
// longer tok (a 403 with errorId 1100, which may mean a missing scope: no
// mint for that).
func (t *Transport) retry(req *http.Request, tok *Token, resp *http.Response, refresh bool) (*http.Response, error) {
	rf, ok := t.Source.(Refresher)
	if refresh && !ok {
		return resp, nil
	}
	var body io.ReadCloser
	if req.Body != nil && req.Body != http.NoBody {
		if req.GetBody == nil {
			return resp, nil
		}
		b, err := req.GetBody()
		if err != nil {
			return resp, nil
		}
		body = b
	}
	var fresh *Token
	var err error
	if refresh {
		fresh, err = rf.Refresh(req.Context(), tok)
	} else {
		fresh, _, err = t.token(req.Context(), nil)
	}
	if err != nil || fresh == nil || fresh.AccessToken == tok.AccessToken {
		if body != nil {
			body.Close()
		}
		return resp, nil
	}
	discard(resp)
	if a, ok := t.Source.(authorizer); ok {
		a.retried401(req.Context(), tok)
	}
	r3 := req.Clone(req.Context())
	if body != nil {
		r3.Body = body
	} else if req.Body != nil {
		r3.Body = http.NoBody
	}
	setToken(r3, fresh, "Bearer "+fresh.AccessToken, isTrading(req.URL.Path))
	return t.base().RoundTrip(r3)
}

// isTrading reports whether path is the XML Trading API's.
func isTrading(path string) bool { return strings.HasSuffix(path, "/ws/api.dll") }

// Trading API error codes of a token eBay does not accept: expired IAF
// token, invalid IAF token, auth token invalid, auth token hard-expired.
var tradingTokenErrors = [][]byte{
	[]byte("<ErrorCode>21917053</ErrorCode>"), []byte("<ErrorCode>21916984</ErrorCode>"),
	[]byte("<ErrorCode>931</ErrorCode>"), []byte("<ErrorCode>932</ErrorCode>"),
}

// tradingPeek is how much of a Trading answer is read to look for a token
// error: eBay puts Ack and Errors right after the Timestamp.
const tradingPeek = 16 << 10

// tradingTokenRefused reports whether resp, a Trading API answer, is a
// failure for the token. It reads at most tradingPeek bytes and leaves
// resp.Body reading the same as before.
func tradingTokenRefused(resp *http.Response) bool {
	b := peek(resp, tradingPeek)
	if !bytes.Contains(b, []byte("<Ack>Failure</Ack>")) && !bytes.Contains(b, []byte("<Ack>PartialFailure</Ack>")) {
		return false
	}
	for _, e := range tradingTokenErrors {
		if bytes.Contains(b, e) {
			return true
		}
	}
	return false
}

// accessDenied reports whether resp, a 403, is eBay's errorId 1100. It
// reads at most 64 KiB and leaves resp.Body reading the same as before.
func accessDenied(resp *http.Response) bool {
	b := peek(resp, 64<<10)
	var env struct {
		Errors []APIErrorDetail `json:"errors"`
	}
	if json.Unmarshal(b, &env) != nil {
		return false
	}
	for _, d := range env.Errors {
		if d.ErrorID == 1100 {
			return true
		}
	}
	return false
}

// peek reads up to n bytes of resp's body and puts them back in front of
// the rest, so that the caller reads the same body.
func peek(resp *http.Response, n int) []byte {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, int64(n)))
	resp.Body = &peekedBody{Reader: io.MultiReader(bytes.NewReader(b), resp.Body), Closer: resp.Body}
	return b
}

type peekedBody struct {
	io.Reader
	io.Closer
}

// token returns the token and its header value.
func (t *Transport) token(ctx context.Context, a authorizer) (*Token, string, error) {
	if a == nil {
		a, _ = t.Source.(authorizer)
	}
	if a != nil {
		return a.authorize(ctx)
	}
	if t.Source == nil {
		return nil, "", errNoSource
	}
	tok, err := t.Source.Token(ctx)
	if err != nil {
		return nil, "", err
	}
	if tok == nil || tok.AccessToken == "" {
		return nil, "", errNilToken
	}
	return tok, "Bearer " + tok.AccessToken, nil
}

// resolve returns what the Transport's fields say, working it out on
// first use: AllowedHosts and AllowHTTPHosts parsed, and whether Source is
// an authorizer (so that the hot path asserts no interface).
func (t *Transport) resolve() (*resolved, error) {
	if r := t.resolved.Load(); r != nil {
		return r, nil
	}
	p, err := newTokenPolicy(t.AllowedHosts, t.AllowHTTPHosts)
	if err != nil {
		return nil, err
	}
	r := &resolved{policy: p}
	r.auth, _ = t.Source.(authorizer)
	t.resolved.Store(r)
	return r, nil
}

func (t *Transport) base() http.RoundTripper {
	if t.Base != nil {
		return t.Base
	}
	return http.DefaultTransport
}

// closeBody closes the body of a request RoundTrip will not send, as the
// RoundTripper contract asks.
func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// discard drains a little of a response nobody will read, so its
// connection can be reused, and closes it.
func discard(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}
