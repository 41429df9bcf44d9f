package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/ebaytest"
)

// fakeOptions are fake-ebay's flags.
type fakeOptions struct {
	listen   string
	lifetime time.Duration
}

func fakeFlags(fs *flag.FlagSet, c *call) {
	o := &c.fake
	fs.StringVar(&o.listen, "listen", "127.0.0.1:0", "loopback `address` to serve on; port 0 picks a free one")
	fs.DurationVar(&o.lifetime, "token-lifetime", ebaytest.DefaultTokenLifetime, "how long the access tokens it mints live, a `duration` such as 2m")
}

// fakeDetails is the rest of fake-ebay's help: its output and its knobs.
const fakeDetails = `It prints shell lines that point the other subcommands at it (save them
and source them): EBAY_API_URL (the token endpoint and consent page derive
from it), its test client id and secret, its RuName, a seller's refresh
token (so they use user tokens; unset EBAY_REFRESH_TOKEN for application
tokens) and EBAY_TOKEN_FILE, a token file of its own, removed when it
stops. The last line says it is ready. It runs until SIGINT or SIGTERM, on
loopback only: it accepts well-known credentials.

knobs, on the same address (curl -X POST "$EBAY_API_URL/_fake/revoke-all"):
  POST /_fake/revoke-all                eBay revokes every access token issued so far
  POST /_fake/revoke-refresh-token      eBay revokes the seller's refresh token: invalid_grant
  POST /_fake/fail-next?n=3&status=503  the next n token requests fail with status (default 1, 503);
                                        n=-1 until clear-failures; body=... sets the answer's body
  POST /_fake/clear-failures            the token endpoint answers again
  POST /_fake/token-lifetime?d=2m       access tokens minted from now on live d
  POST /_fake/latency?d=2s              the token endpoint answers d late (0: at once)
  GET  /_fake/                          these knobs, and what the fake has seen
`

// fakeReady ends fake-ebay's output: a script may wait for it before it
// sources the lines above it.
const fakeReady = "# ebaytoken fake-ebay: ready"

// fakeScopes are the scopes of the seller's refresh token fake-ebay
// prints: the Browse API (validate's probe) and one Sell API.
var fakeScopes = []string{ebayauth.ScopeAPI, ebayauth.ScopeAPI + "/sell.inventory"}

// cmdFakeEBay runs the ebaytest fake eBay on loopback for other processes
// until ctx ends.
func cmdFakeEBay(ctx context.Context, c *call) error {
	o := c.fake
	if err := checkListen(o.listen); err != nil {
		return usagef("--listen: %v", err)
	}
	if err := checkLoopback(o.listen); err != nil {
		return usagef("--listen %s: %v", o.listen, err)
	}
	if o.lifetime < time.Second {
		return usagef("--token-lifetime: at least 1s (eBay counts lifetimes in seconds)")
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return listenError("--listen", o.listen, err)
	}
	if a, ok := ln.Addr().(*net.TCPAddr); !ok || !a.IP.IsLoopback() {
		ln.Close() // "localhost" that is not loopback
		return usagef("--listen %s: %s is not a loopback address", o.listen, ln.Addr())
	}
	dir, err := os.MkdirTemp("", "ebaytoken-fake-")
	if err != nil {
		ln.Close()
		return err
	}
	defer os.RemoveAll(dir)
	srv := ebaytest.NewServerOn(ln)
	defer srv.Close()
	srv.SetTokenLifetime(o.lifetime)
	rt := srv.IssueRefreshToken(fakeScopes...)
	srv.Handle("/_fake/", fakeKnobs(srv, rt))

	vars := [][2]string{
		{envAPIURL, srv.URL},
		{envClientID, ebaytest.ClientID},
		{envClientSecret, ebaytest.ClientSecret},
		{envRuName, ebaytest.RuName},
		{envRefreshToken, rt},
		{envRefreshTokenExp, time.Now().Add(ebaytest.RefreshTokenLifetime).UTC().Format(time.RFC3339)},
		{envTokenFile, filepath.Join(dir, "tokens.json")},
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# ebaytoken fake-ebay: a fake eBay at %s (no real eBay is called), until it stops.\n", srv.URL)
	fmt.Fprintf(&b, "# Its test credentials, a seller's refresh token, and a token file of its own:\n")
	var names []string
	for _, v := range vars {
		fmt.Fprintf(&b, "export %s=%s\n", v[0], shellQuote(v[1]))
		names = append(names, v[0])
	}
	fmt.Fprintf(&b, "# Knobs: curl -X POST %s/_fake/revoke-all; the list: curl %s/_fake/\n", srv.URL, srv.URL)
	fmt.Fprintf(&b, "# Undo: unset %s\n", strings.Join(names, " "))
	b.WriteString(fakeReady + "\n")
	// One write, so that a reader of a file sees all of it or none.
	if _, err := io.WriteString(c.stdout, b.String()); err != nil {
		return err
	}
	fmt.Fprintf(c.stderr, "ebaytoken fake-ebay: a fake eBay at %s; access tokens live %v; Ctrl-C to stop\n", srv.URL, o.lifetime)
	<-ctx.Done()
	fmt.Fprintln(c.stderr, "ebaytoken fake-ebay: stopped")
	return nil
}

// checkLoopback refuses a listen address whose host is not a loopback IP
// or "localhost": an empty host listens on every interface.
func checkLoopback(addr string) error {
	host, _, _ := net.SplitHostPort(addr)
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("the fake eBay listens on loopback only (127.0.0.1, [::1] or localhost): it accepts well-known credentials")
}

// fakeKnobs serves /_fake/: the fake's fault knobs, for the shell.
func fakeKnobs(srv *ebaytest.Server, refreshToken string) http.Handler {
	mux := http.NewServeMux()
	reply := func(w http.ResponseWriter, format string, args ...any) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, format+"\n", args...)
	}
	bad := func(w http.ResponseWriter, format string, args ...any) {
		http.Error(w, "fake-ebay: "+fmt.Sprintf(format, args...), http.StatusBadRequest)
	}
	duration := func(w http.ResponseWriter, r *http.Request) (time.Duration, bool) {
		d, err := time.ParseDuration(r.URL.Query().Get("d"))
		if err != nil || d < 0 {
			bad(w, "d=%q: want a duration such as 2m or 1.5s", r.URL.Query().Get("d"))
			return 0, false
		}
		return d, true
	}
	mux.HandleFunc("GET /_fake/{$}", func(w http.ResponseWriter, r *http.Request) {
		reply(w, "ebaytoken fake-ebay at %s: %d token requests (%d client_credentials mints, %d refresh_token mints, %d authorization_code mints), %d API requests\n\n%s",
			srv.URL, srv.TotalTokenRequests(), srv.Mints(ebaytest.GrantClientCredentials), srv.Mints(ebaytest.GrantRefreshToken),
			srv.Mints(ebaytest.GrantAuthorizationCode), srv.APIRequests(), fakeDetails[strings.Index(fakeDetails, "knobs"):])
	})
	mux.HandleFunc("POST /_fake/revoke-all", func(w http.ResponseWriter, r *http.Request) {
		srv.RevokeAll()
		reply(w, "revoked every access token issued so far; REST calls with them get 401/1001")
	})
	mux.HandleFunc("POST /_fake/revoke-refresh-token", func(w http.ResponseWriter, r *http.Request) {
		srv.RevokeRefreshToken(refreshToken)
		reply(w, "revoked the seller's refresh token; the refresh_token grant answers invalid_grant")
	})
	mux.HandleFunc("POST /_fake/fail-next", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		n, status := 1, http.StatusServiceUnavailable
		if v := q.Get("n"); v != "" {
			var err error
			if n, err = strconv.Atoi(v); err != nil || n < -1 || n == 0 {
				bad(w, "n=%q: want a positive count, or -1 for every request until clear-failures", v)
				return
			}
		}
		if v := q.Get("status"); v != "" {
			var err error
			if status, err = strconv.Atoi(v); err != nil || status < 400 || status > 599 {
				bad(w, "status=%q: want an HTTP error status, 400 to 599", v)
				return
			}
		}
		srv.FailNext(n, status, q.Get("body"))
		which := fmt.Sprintf("the next %s", plural(n, "token request"))
		if n < 0 {
			which = "every token request until clear-failures"
		}
		reply(w, "%s will fail with HTTP %d", which, status)
	})
	mux.HandleFunc("POST /_fake/clear-failures", func(w http.ResponseWriter, r *http.Request) {
		srv.ClearFailures()
		reply(w, "the token endpoint answers again")
	})
	mux.HandleFunc("POST /_fake/token-lifetime", func(w http.ResponseWriter, r *http.Request) {
		d, ok := duration(w, r)
		if !ok {
			return
		}
		if d < time.Second {
			bad(w, "d=%v: at least 1s", d)
			return
		}
		srv.SetTokenLifetime(d)
		reply(w, "access tokens minted from now on live %v", d)
	})
	mux.HandleFunc("POST /_fake/latency", func(w http.ResponseWriter, r *http.Request) {
		d, ok := duration(w, r)
		if !ok {
			return
		}
		srv.SetLatency(d)
		reply(w, "the token endpoint answers %v late", d)
	})
	return mux
}
