package ebaysig_test

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/ebaysig"
	"github.com/ebayauth/ebayauth/ebaytest"
)

// eBay's published test vector (digital-signature Node SDK tests).
const (
	vectorKeyPEM  = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF\n-----END PRIVATE KEY-----"
	vectorPubB64  = "MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs="
	vectorJWE     = "eyJhbGciOiJBMjU2R0NNS1ciLCJlbmMiOiJBMjU2R0NNIiwiemlwIjoiREVGIiwiaXYiOiJvSzFwdXJNVHQtci14VUwzIiwidGFnIjoiTjB4WjI4ZklZckFmYkd5UWFrTnpjZyJ9.AYdKU7ObIc7Z764OrlKpwUViK8Rphxl0xMP9v2_o9mI.1DbZiSQNRK6pLeIw.Yzp3IDV8RM_h_lMAnwGpMA4DXbaDdmqAh-65kO9xyDgzHD6s0kY3p-yO6oPR9kEcAbjGXIULeQKWVYzbfHKwXTY09Npj_mNuO5yxgZtWnL55uIgP2HL1So2dKkZRK0eyPa6DEXJT71lPtwZtpIGyq9R5h6s3kGMbqA.m4t_MX4VnlXJGx1X_zZ-KQ"
	vectorCreated = 1663459378
	vectorBody    = `{"hello": "world"}`
	vectorDigest  = "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"
	vectorInput   = `sig1=("content-digest" "x-ebay-signature-key" "@method" "@path" "@authority");created=1663459378`
	vectorSig     = "sig1=:gkk7dqudw21DFHDVBoRUWe/F6/2hTEmWRFDBxiN6COD4PjozXziiDFML1nFHu+0UcMXC/niltxzABjnugu4DCA==:"
)

// The fake's signed methods.
const (
	refundPath = "/sell/fulfillment/v1/order/12-34567-89012/issue_refund"
	txnPath    = "/sell/finances/v1/transaction"
	refundBody = `{"reasonForRefund":"BUYER_CANCEL","orderLevelRefundAmount":{"value":"24.99","currency":"GBP"}}`
)

// fixture is a fake eBay on a fake clock and a Manager of a seller's user
// token against it.
type fixture struct {
	srv   *ebaytest.Server
	clock *ebaytest.Clock
	m     *ebayauth.Manager
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	srv := ebaytest.NewServer()
	t.Cleanup(srv.Close)
	clock := ebaytest.NewClock(time.Now())
	srv.SetNow(clock.Now)
	m := newManager(t, srv, clock, srv.IssueRefreshToken())
	return &fixture{srv, clock, m}
}

// newManager returns a Manager against srv: of user tokens from rt, or of
// application tokens if rt is "".
func newManager(t *testing.T, srv *ebaytest.Server, clock ebayauth.Clock, rt string) *ebayauth.Manager {
	t.Helper()
	m, err := ebayauth.New(ebayauth.Config{
		ClientID:     ebaytest.ClientID,
		ClientSecret: ebaytest.ClientSecret,
		RefreshToken: rt,
		Endpoint:     srv.Endpoint(),
		Clock:        clock,
		RetryMax:     -1,
		Logger:       slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// signer returns a Signer with a fresh key of cipher from the fake, on the
// fixture's clock.
func (f *fixture) signer(t *testing.T, cipher string) *ebaysig.Signer {
	t.Helper()
	id, jwe, priv := f.srv.IssueSigningKey(cipher)
	return &ebaysig.Signer{Key: ebaysig.Key{ID: id, JWE: jwe, PrivateKey: priv}, Clock: f.clock}
}

// send makes a request through client and returns the status and body.
func send(t *testing.T, client *http.Client, method, url, body string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, strings.TrimSpace(string(b))
}

// errorID returns the first errorId of a REST error body, 0 if none.
func errorID(body string) int {
	var env struct {
		Errors []struct {
			ErrorID int `json:"errorId"`
		} `json:"errors"`
	}
	if json.Unmarshal([]byte(body), &env) != nil || len(env.Errors) == 0 {
		return 0
	}
	return env.Errors[0].ErrorID
}

// spy is a RoundTripper that records the headers of the requests it passes
// on to Base (nil: http.DefaultTransport).
type spy struct {
	Base    http.RoundTripper
	mu      sync.Mutex
	headers []http.Header
}

func (s *spy) RoundTrip(r *http.Request) (*http.Response, error) {
	s.mu.Lock()
	s.headers = append(s.headers, r.Header.Clone())
	s.mu.Unlock()
	base := s.Base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(r)
}

func (s *spy) seen() []http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.headers
}

// tickClock moves an ebaytest.Clock a second forward before each reading,
// so that two signatures never share a created.
type tickClock struct{ *ebaytest.Clock }

func (c tickClock) Now() time.Time {
	c.Advance(time.Second)
	return c.Clock.Now()
}

// wantBase is the signature base eBay's documentation describes, written
// out apart from the package.
func wantBase(method, path, authority, jwe, body string, created int64) string {
	var b strings.Builder
	comps := `"x-ebay-signature-key" "@method" "@path" "@authority"`
	if body != "" {
		sum := sha256.Sum256([]byte(body))
		b.WriteString(`"content-digest": sha-256=:` + base64.StdEncoding.EncodeToString(sum[:]) + ":\n")
		comps = `"content-digest" ` + comps
	}
	b.WriteString(`"x-ebay-signature-key": ` + jwe + "\n")
	b.WriteString(`"@method": ` + method + "\n")
	b.WriteString(`"@path": ` + path + "\n")
	b.WriteString(`"@authority": ` + authority + "\n")
	b.WriteString(`"@signature-params": (` + comps + ");created=" + strconv.FormatInt(created, 10))
	return b.String()
}

// verify reports whether the Signature header h carries verifies base
// under pub (Ed25519, or RSA PKCS #1 v1.5 with SHA-256).
func verify(t *testing.T, pub crypto.PublicKey, h http.Header, base string) bool {
	t.Helper()
	v, labelled := strings.CutPrefix(h.Get("Signature"), "sig1=:")
	v, closed := strings.CutSuffix(v, ":")
	if !labelled || !closed {
		t.Errorf("Signature %q is not sig1=:…:", h.Get("Signature"))
		return false
	}
	sig, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		t.Errorf("Signature: %v", err)
		return false
	}
	switch pub := pub.(type) {
	case ed25519.PublicKey:
		return ed25519.Verify(pub, []byte(base), sig)
	case *rsa.PublicKey:
		sum := sha256.Sum256([]byte(base))
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig) == nil
	}
	t.Fatalf("unexpected public key %T", pub)
	return false
}

// closeCounter is a request body that counts its Close calls.
type closeCounter struct {
	io.Reader
	mu     sync.Mutex
	closed int
}

func (c *closeCounter) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed++
	return nil
}

func (c *closeCounter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// opaqueSigner hides the concrete type of a key, as a KMS-backed signer
// would.
type opaqueSigner struct{ crypto.Signer }
