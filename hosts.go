package ebayauth

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"
)

// Host patterns: which hosts receive the token (Config.AllowedHosts,
// Transport.AllowedHosts). One parser serves both, so a pattern New refuses
// is refused by a hand-built Transport too.

// DefaultAllowedHosts is the AllowedHosts used when Config leaves it nil:
// the host of e.APIURL and every host under ebay.com.
func DefaultAllowedHosts(e Endpoint) []string {
	hosts := []string{"*.ebay.com"}
	if u, err := url.Parse(e.APIURL); err == nil && u.Host != "" {
		if hs, err := parseHosts(hosts); err == nil && !hs.allows(u.Host) {
			hosts = append(hosts, u.Host)
		}
	}
	return hosts
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

// parseHosts parses patterns: "host", "host:port", "[v6]", "[v6]:port" or
// "*.domain". Anything else is an error naming the pattern.
func parseHosts(patterns []string) (hostSet, error) {
	hs := make(hostSet, 0, len(patterns))
	for _, p := range patterns {
		if err := checkHostPattern(p); err != nil {
			return nil, err
		}
		if suffix, ok := strings.CutPrefix(p, "*"); ok {
			hs = append(hs, hostPattern{suffix: suffix})
			continue
		}
		host, port := splitHostPort(p)
		hs = append(hs, hostPattern{exact: p, host: host, port: port})
	}
	return hs, nil
}

// checkHostPattern reports whether p is a host pattern: a wildcard only as
// a whole leftmost label ("*.ebay.com", never "*ebay.com", which would
// match notebay.com), no scheme, path, user info or space.
func checkHostPattern(p string) error {
	bad := func(why string) error {
		return fmt.Errorf("ebayauth: AllowedHosts: %q is not a host, host:port or *.domain: %s", p, why)
	}
	switch {
	case p == "":
		return bad("empty")
	case strings.ContainsAny(p, "/@?# \t\r\n\\"):
		return bad("it holds a character no host has")
	case strings.Contains(p, "*") && !strings.HasPrefix(p, "*."):
		return bad(`a wildcard must be a whole label, as in "*.ebay.com"`)
	case strings.Count(p, "*") > 1:
		return bad("more than one wildcard")
	case p == "*." || strings.HasPrefix(p, "*..") || strings.HasSuffix(p, "."):
		return bad("empty label")
	}
	host, port := splitHostPort(strings.TrimPrefix(p, "*."))
	if host == "" {
		return bad("no host")
	}
	if strings.HasPrefix(p, "*.") && !strings.Contains(host, ".") {
		return bad("a wildcard over a top-level domain")
	}
	for _, c := range port {
		if c < '0' || c > '9' {
			return bad("the port is not a number")
		}
	}
	return nil
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

// Cleartext: the token goes to an allowed host only over https, except to
// a loopback host (ebaytest, a local proxy) or a host the user allowed plain
// http for (Config.AllowHTTPHosts, Transport.AllowHTTPHosts).

// errCleartext is returned for a request that would send the token over
// plain http.
type errCleartext struct{ host string }

func (e errCleartext) Error() string {
	return "ebayauth: refusing to send the token over plain http to " + e.host +
		": use https, or allow the host in AllowHTTPHosts"
}

// tokenPolicy is where a token may go: the allowed hosts, and those of
// them that may get it over plain http.
type tokenPolicy struct {
	hosts hostSet
	http  hostSet
}

func newTokenPolicy(allowed, plainHTTP []string) (*tokenPolicy, error) {
	hs := defaultHosts
	if allowed != nil {
		var err error
		if hs, err = parseHosts(allowed); err != nil {
			return nil, err
		}
	}
	ph, err := parseHosts(plainHTTP)
	if err != nil {
		return nil, err
	}
	return &tokenPolicy{hosts: hs, http: ph}, nil
}

// check says whether a request to u gets the token: (true, nil) if it
// does, (false, nil) if u's host is not allowed (the request goes on
// without the token), and an error if the host is allowed but the scheme
// would expose the token.
func (p *tokenPolicy) check(u *url.URL) (bool, error) {
	if !p.hosts.allows(u.Host) {
		return false, nil
	}
	if u.Scheme == "https" {
		return true, nil
	}
	if u.Scheme == "http" && (isLoopback(u.Host) || p.http.allows(u.Host)) {
		return true, nil
	}
	host, _ := splitHostPort(u.Host)
	return false, errCleartext{host}
}

// isLoopback reports whether hostport names this machine: localhost or a
// loopback address.
func isLoopback(hostport string) bool {
	host, _ := splitHostPort(hostport)
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}
