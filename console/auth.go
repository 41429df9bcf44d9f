package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// MinAdminSecret is the shortest Config.AdminSecret accepted, in bytes.
const MinAdminSecret = 16

// DefaultCookieName names the console's session cookie unless
// Config.CookieName says otherwise.
const DefaultCookieName = "ebayauth_console"

// session is what the session cookie says: a random id (which the CSRF
// token is derived from), when the session ends, and whether it logged in
// with the admin secret.
type session struct {
	id     string
	until  time.Time
	authed bool
}

// The cookie is "v1.<id>.<until unix>.<0|1>.<mac>", the MAC an HMAC-SHA256
// under the Console's key, which is random per Console: sessions are
// stateless (nothing grows with visitors) and end with the process.

func (c *Console) seal(s session) string {
	authed := "0"
	if s.authed {
		authed = "1"
	}
	body := "v1." + s.id + "." + strconv.FormatInt(s.until.Unix(), 10) + "." + authed
	return body + "." + c.mac("session", body)
}

// open returns the session cookie v holds, if it is genuine and current.
func (c *Console) open(v string) (session, bool) {
	i := strings.LastIndexByte(v, '.')
	if i < 0 {
		return session{}, false
	}
	body, mac := v[:i], v[i+1:]
	if !hmac.Equal([]byte(mac), []byte(c.mac("session", body))) {
		return session{}, false
	}
	parts := strings.Split(body, ".")
	if len(parts) != 4 || parts[0] != "v1" {
		return session{}, false
	}
	unix, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		return session{}, false
	}
	s := session{id: parts[1], until: time.Unix(unix, 0), authed: parts[3] == "1"}
	if !c.now().Before(s.until) {
		return session{}, false
	}
	return s, true
}

// mac is the base64url HMAC-SHA256 of purpose and msg under the key.
func (c *Console) mac(purpose, msg string) string {
	h := hmac.New(sha256.New, c.key)
	h.Write([]byte(purpose))
	h.Write([]byte{0})
	h.Write([]byte(msg))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// csrf is the session's CSRF token: forms carry it, and a mutation is
// refused unless it matches the session cookie's.
func (c *Console) csrf(s session) string { return c.mac("csrf", s.id) }

// newSession returns a fresh session.
func (c *Console) newSession(authed bool) session {
	id := make([]byte, 18)
	rand.Read(id) // never fails since Go 1.24
	return session{id: base64.RawURLEncoding.EncodeToString(id), until: c.now().Add(c.lifetime), authed: authed}
}

// session returns the request's session, starting (and setting the cookie
// of) a new one if it has none.
func (c *Console) session(w http.ResponseWriter, r *http.Request) session {
	if ck, err := r.Cookie(c.cookieName); err == nil {
		if s, ok := c.open(ck.Value); ok {
			return s
		}
	}
	s := c.newSession(len(c.secret) == 0)
	c.setCookie(w, r, s)
	return s
}

// setCookie sets the session cookie: HttpOnly, SameSite=Strict, Secure
// when the browser's request came over HTTPS. A zero session clears it.
func (c *Console) setCookie(w http.ResponseWriter, r *http.Request, s session) {
	ck := &http.Cookie{
		Name:     c.cookieName,
		Path:     c.cookiePath,
		HttpOnly: true,
		Secure:   isHTTPS(r),
		SameSite: http.SameSiteStrictMode,
	}
	if s.id == "" {
		ck.MaxAge = -1
	} else {
		ck.Value = c.seal(s)
		ck.MaxAge = int(c.lifetime / time.Second)
	}
	http.SetCookie(w, ck)
}

// isHTTPS reports whether the browser's request came over HTTPS: directly,
// or through a proxy that says so with X-Forwarded-Proto. A client that
// lies about it only gets a cookie it will not send back over plain HTTP.
func isHTTPS(r *http.Request) bool {
	proto, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
	return r.TLS != nil || strings.EqualFold(strings.TrimSpace(proto), "https")
}

// secretOK compares a submitted secret with the admin secret in constant
// time (hashing first, so that not even the length leaks).
func (c *Console) secretOK(given string) bool {
	a := sha256.Sum256([]byte(given))
	b := sha256.Sum256(c.secret)
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// checkMutation refuses a POST that is cross-origin (by Sec-Fetch-Site or
// Origin, net/http's CrossOriginProtection) or whose CSRF token (the csrf
// form field or the X-CSRF-Token header) is not the session's. It returns
// why, or "" if the request may go on.
func (c *Console) checkMutation(r *http.Request, s session, haveSession bool) string {
	if err := c.cop.Check(r); err != nil {
		return "cross-origin request refused"
	}
	tok := r.Header.Get("X-CSRF-Token")
	if tok == "" {
		tok = r.PostFormValue("csrf")
	}
	if !haveSession || tok == "" || subtle.ConstantTimeCompare([]byte(tok), []byte(c.csrf(s))) != 1 {
		return "missing or stale form token: reload the page and try again"
	}
	return ""
}

// IsLoopback reports whether a listen address (host:port, as for
// net.Listen) accepts connections from this machine only: an IP in
// 127.0.0.0/8 or ::1, or the name localhost. An empty host (":8080") is
// every interface, so not loopback; so is any other host name.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// remoteLoopback reports whether the request came from this machine.
func remoteLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}
