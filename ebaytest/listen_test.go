package ebaytest_test

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/ebaytest"
)

// TestNewServerOn: the fake on a listener of the caller's answers as
// NewServer's does, at the listener's address, and Close closes it.
func TestNewServerOn(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := ebaytest.NewServerOn(ln)
	t.Cleanup(srv.Close)
	if want := "http://" + ln.Addr().String(); srv.URL != want {
		t.Errorf("URL: got %q; want %q", srv.URL, want)
	}
	if e := srv.Endpoint(); e.TokenURL != srv.URL+"/identity/v1/oauth2/token" || e.APIURL != srv.URL {
		t.Errorf("Endpoint: got %+v", e)
	}
	tok := appToken(t, srv, ebayauth.ScopeAPI)
	if status, body := call(t, srv, http.MethodGet, "/buy/browse/v1/item_summary/search?q=lego", "Bearer "+tok, ""); status != http.StatusOK ||
		!strings.Contains(body, `"href":"`+srv.URL+"/buy/browse/") {
		t.Errorf("search: got %d %s; want 200 with hrefs on the listener's address", status, body)
	}
	// The consent page sends the seller to the accept URL on the same address.
	noRedirect := *srv.Client()
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	q := url.Values{"client_id": {ebaytest.ClientID}, "redirect_uri": {ebaytest.RuName}, "response_type": {"code"}, "scope": {ebayauth.ScopeAPI}}
	resp, err := noRedirect.Get(srv.Endpoint().AuthURL + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, srv.URL+"/accept?") {
		t.Errorf("consent redirect: got %q; want %q…", loc, srv.URL+"/accept?")
	}

	srv.Close()
	if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		c.Close()
		t.Error("the listener still accepts after Close")
	}
}

// fakeListener is a listener on an address it does not listen on: enough
// for NewServerOn to judge the address, with no network.
type fakeListener struct{ addr net.Addr }

func (l fakeListener) Accept() (net.Conn, error) { return nil, errors.New("fake") }
func (l fakeListener) Close() error              { return nil }
func (l fakeListener) Addr() net.Addr            { return l.addr }

func TestNewServerOnRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:8080", "192.0.2.1:80", "[::]:80"} {
		t.Run(addr, func(t *testing.T) {
			tcp, err := net.ResolveTCPAddr("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if recover() == nil {
					t.Errorf("NewServerOn(%s) did not panic", addr)
				}
			}()
			srv := ebaytest.NewServerOn(fakeListener{tcp})
			srv.Close()
		})
	}
}

// TestHandle: a tool may serve its own paths beside the fake's, but not
// over them.
func TestHandle(t *testing.T) {
	srv := newServer(t)
	srv.Handle("POST /_tool/ping", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("pong"))
	}))
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/_tool/ping", nil)
	if status, _, body := do(t, srv, req); status != http.StatusOK || body != "pong" {
		t.Errorf("got %d %q; want 200 pong", status, body)
	}
	if status, _ := call(t, srv, http.MethodGet, "/buy/browse/v1/item_summary/search", "", ""); status != http.StatusBadRequest {
		t.Errorf("the fake's own path: got %d; want its 400 for a missing token", status)
	}
	defer func() {
		if recover() == nil {
			t.Error("Handle over the token endpoint did not panic")
		}
	}()
	srv.Handle("/identity/v1/oauth2/token", http.NotFoundHandler())
}
