package webhook

import (
	"net/url"
	"slices"
	"strings"
)

// RedactURL cuts a webhook URL to what a log line or an error may show:
// its scheme and host, with "/…" when a path, query or fragment was cut,
// and never the user name and password. Webhook URLs often carry their
// secret in the path or query (Slack, Discord, Teams). It works on URLs
// that do not parse too; a string without a well-formed "scheme://"
// prefix shows as "…", and a malformed host as "scheme://…".
//
//	RedactURL("https://hooks.slack.com/services/T0/B0/XXXX") == "https://hooks.slack.com/…"
//	RedactURL("https://user:pass@alerts.example.com:8443") == "https://alerts.example.com:8443"
func RedactURL(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok || !validScheme(scheme) {
		return "…"
	}
	authority, more := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		authority, more = rest[:i], rest[i:]
	}
	host := authority
	if i := strings.IndexAny(authority, "?#"); i >= 0 {
		host, more = authority[:i], authority[i:]+more
	}
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		if i >= len(host) {
			// An "@" after a "?" or "#": in the query, or in a password
			// with a "?"; either way the host is not certain.
			return scheme + "://…"
		}
		host = host[i+1:] // user info: a name and often a password
	}
	if !validHost(host) {
		return scheme + "://…"
	}
	if more != "" && more != "/" {
		return scheme + "://" + host + "/…"
	}
	return scheme + "://" + host
}

func validScheme(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i, c := range []byte(s) {
		letter := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		if !letter && (i == 0 || !('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return true
}

// validHost accepts the characters of a host name, an IP address and a
// port: nothing that could hide a secret or break a log line.
func validHost(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(".-_:[]%", c) >= 0) {
			return false
		}
	}
	return true
}

// secretParts lists the parts of u that must not show in a message: the
// URL whole, in its forms, and its path, query and user info, longest
// first.
func secretParts(raw string, u *url.URL) []string {
	parts := []string{raw, u.String(), u.Redacted(), u.RawQuery, u.Fragment, u.EscapedPath(), u.Path}
	if u.User != nil {
		parts = append(parts, u.User.String(), u.User.Username())
		if p, ok := u.User.Password(); ok {
			parts = append(parts, p)
		}
	}
	// Shorter parts ("", "/", "/x") hide nothing and would garble the rest.
	parts = slices.DeleteFunc(parts, func(s string) bool { return len(s) < 4 })
	slices.SortFunc(parts, func(a, b string) int { return len(b) - len(a) })
	return slices.Compact(parts)
}

// scrub replaces in s each of parts with "…".
func scrub(s string, parts []string) string {
	for _, p := range parts {
		s = strings.ReplaceAll(s, p, "…")
	}
	return s
}
