package ebayauth

import (
	"context"
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
// first use (AllowedHosts is read once), and do not copy it after first use.
type Transport struct {
	// Source supplies the token. Required.
	Source TokenSource
	// Base makes the requests. Nil: http.DefaultTransport.
	Base http.RoundTripper
	// AllowedHosts receive the token: "host" (any port), "host:port", or
	// "*.domain" (any subdomain). Nil: DefaultAllowedHosts(Production).
	AllowedHosts []string

	hosts atomic.Pointer[hostSet] // AllowedHosts parsed on first use
}

var _ http.RoundTripper = (*Transport)(nil)

// defaultHosts are the allowed hosts of a Transport without AllowedHosts.
var defaultHosts = parseHosts(DefaultAllowedHosts(Production))

// retryNotifier is implemented by a source that counts healed 401s.
type retryNotifier interface{ retried401(tok *Token) }

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !t.allowedHosts().allows(req.URL.Host) {
		return t.base().RoundTrip(req)
	}
	tok, header, err := t.token(req.Context())
	if err != nil {
		closeBody(req)
		return nil, err
	}
	r2 := req.Clone(req.Context())
	r2.Header.Set("Authorization", header)
	resp, err := t.base().RoundTrip(r2)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	return t.retry(req, tok, resp)
}

// retry replays req with a new token after resp, a 401 to tok.
func (t *Transport) retry(req *http.Request, tok *Token, resp *http.Response) (*http.Response, error) {
	rf, ok := t.Source.(Refresher)
	if !ok {
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
	fresh, err := rf.Refresh(req.Context(), tok)
	if err != nil || fresh.AccessToken == tok.AccessToken {
		if body != nil {
			body.Close()
		}
		return resp, nil
	}
	discard(resp)
	if n, ok := t.Source.(retryNotifier); ok {
		n.retried401(tok)
	}
	r3 := req.Clone(req.Context())
	if body != nil {
		r3.Body = body
	} else if req.Body != nil {
		r3.Body = http.NoBody
	}
	r3.Header.Set("Authorization", "Bearer "+fresh.AccessToken)
	return t.base().RoundTrip(r3)
}

// token returns the token and its header value. A Manager hands over the
// header it built when it got the token, so the hot path allocates nothing.
func (t *Transport) token(ctx context.Context) (*Token, string, error) {
	if m, ok := t.Source.(*Manager); ok {
		e, err := m.current(ctx)
		if err != nil {
			return nil, "", err
		}
		return e.tok, e.header, nil
	}
	tok, err := t.Source.Token(ctx)
	if err != nil {
		return nil, "", err
	}
	return tok, "Bearer " + tok.AccessToken, nil
}

// allowedHosts returns AllowedHosts parsed, parsing them on first use.
func (t *Transport) allowedHosts() *hostSet {
	if hs := t.hosts.Load(); hs != nil {
		return hs
	}
	hs := &defaultHosts
	if t.AllowedHosts != nil {
		parsed := parseHosts(t.AllowedHosts)
		hs = &parsed
	}
	t.hosts.Store(hs)
	return hs
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

// hostAllowed reports whether hostport (a URL's Host) matches one of
// patterns: "*.domain" matches every subdomain of domain on any port; a
// pattern with a port matches that host and port; one without a port matches
// the host on any port. Comparison ignores case.
func hostAllowed(patterns []string, hostport string) bool {
	return parseHosts(patterns).allows(hostport)
}

// hostPattern is one parsed AllowedHosts entry.
type hostPattern struct {
	suffix string // for "*.domain": ".domain"; else empty
	exact  string // otherwise the entry as written, for the common exact match
	host   string // its host, without brackets
	port   string // and port, if the entry names one
}

// hostSet is AllowedHosts parsed once, so a request only compares strings.
type hostSet []hostPattern

func parseHosts(patterns []string) hostSet {
	hs := make(hostSet, 0, len(patterns))
	for _, p := range patterns {
		if suffix, ok := strings.CutPrefix(p, "*"); ok {
			hs = append(hs, hostPattern{suffix: suffix})
			continue
		}
		host, port := splitHostPort(p)
		hs = append(hs, hostPattern{exact: p, host: host, port: port})
	}
	return hs
}

// allows reports whether hostport matches the set. It does not allocate.
func (hs hostSet) allows(hostport string) bool {
	for _, p := range hs {
		if p.exact == hostport && p.exact != "" {
			return true
		}
	}
	host, port := splitHostPort(hostport)
	for _, p := range hs {
		switch {
		case p.suffix != "":
			if len(host) > len(p.suffix) && strings.EqualFold(host[len(host)-len(p.suffix):], p.suffix) {
				return true
			}
		case strings.EqualFold(p.host, host) && (p.port == "" || p.port == port):
			return true
		}
	}
	return false
}

// splitHostPort splits "host", "host:port", "[v6]" or "[v6]:port" without
// net.SplitHostPort's allocation of an error for a missing port.
func splitHostPort(s string) (host, port string) {
	if i := strings.LastIndexByte(s, ':'); i >= 0 && i > strings.LastIndexByte(s, ']') {
		host, port = s[:i], s[i+1:]
	} else {
		host = s
	}
	if len(host) > 1 && host[0] == '[' && host[len(host)-1] == ']' {
		host = host[1 : len(host)-1]
	}
	return host, port
}

// retried401 counts a healed 401 and reports it.
func (m *Manager) retried401(tok *Token) {
	m.retries401.Add(1)
	m.emit(Event{Kind: EventRetried401, Fingerprint: tok.Fingerprint()})
}
