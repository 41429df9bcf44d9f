package ebaytest_test

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/ebaytest"
)

// The signing in these tests is written out by hand, apart from package
// ebaysig, so that the fake's verifier is checked against a second reading
// of eBay's rules rather than against the code it is meant to test.

const refundBody = `{"reasonForRefund":"BUYER_CANCEL","orderLevelRefundAmount":{"value":"24.99","currency":"GBP"}}`

// sigReq describes how signRequest signs.
type sigReq struct {
	jwe        string
	priv       crypto.Signer
	created    int64
	components []string // nil: eBay's list, with content-digest when there is a body
	extra      string   // appended to Signature-Input after created
	basePath   string   // @path in the base; "": the URL's path
	pss        bool     // RSA-PSS instead of PKCS #1 v1.5
}

// signRequest signs req, whose body is body, as sr says.
func signRequest(t *testing.T, req *http.Request, body string, sr sigReq) {
	t.Helper()
	comps := sr.components
	if comps == nil {
		comps = []string{"x-ebay-signature-key", "@method", "@path", "@authority"}
		if body != "" {
			comps = append([]string{"content-digest"}, comps...)
		}
	}
	if body != "" {
		sum := sha256.Sum256([]byte(body))
		req.Header.Set("Content-Digest", "sha-256=:"+base64.StdEncoding.EncodeToString(sum[:])+":")
	}
	req.Header.Set("x-ebay-signature-key", sr.jwe)
	quoted := make([]string, len(comps))
	var base strings.Builder
	for i, c := range comps {
		quoted[i] = `"` + c + `"`
		var v string
		switch c {
		case "@method":
			v = req.Method
		case "@path":
			v = req.URL.Path
			if sr.basePath != "" {
				v = sr.basePath
			}
		case "@authority":
			v = req.URL.Host
		default:
			v = req.Header.Get(c)
		}
		base.WriteString(`"` + c + `": ` + v + "\n")
	}
	params := "(" + strings.Join(quoted, " ") + ");created=" + strconv.FormatInt(sr.created, 10) + sr.extra
	base.WriteString(`"@signature-params": ` + params)
	req.Header.Set("Signature-Input", "sig1="+params)

	var sig []byte
	var err error
	switch k := sr.priv.(type) {
	case ed25519.PrivateKey:
		sig = ed25519.Sign(k, []byte(base.String()))
	case *rsa.PrivateKey:
		sum := sha256.Sum256([]byte(base.String()))
		if sr.pss {
			sig, err = rsa.SignPSS(rand.Reader, k, crypto.SHA256, sum[:], nil)
		} else {
			sig, err = rsa.SignPKCS1v15(nil, k, crypto.SHA256, sum[:])
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Signature", "sig1=:"+base64.StdEncoding.EncodeToString(sig)+":")
}

// errorID returns the first errorId of a REST error body, 0 if none.
func errorID(t *testing.T, body string) int {
	t.Helper()
	var env struct {
		Errors []struct {
			ErrorID int `json:"errorId"`
		} `json:"errors"`
	}
	if err := json.Unmarshal([]byte(body), &env); err != nil || len(env.Errors) == 0 {
		return 0
	}
	return env.Errors[0].ErrorID
}

func TestSignedMethods(t *testing.T) {
	srv := newServer(t)
	clock := ebaytest.NewClock(time.Now())
	srv.SetNow(clock.Now)
	user := "Bearer " + userToken(t, srv)
	_, jwe, priv := srv.IssueSigningKey(ebaytest.CipherEd25519)
	_, rsaJWE, rsaPriv := srv.IssueSigningKey(ebaytest.CipherRSA)
	_, otherJWE, _ := srv.IssueSigningKey(ebaytest.CipherEd25519)
	_, unknownPriv, _ := ed25519.GenerateKey(rand.Reader)
	now := clock.Now().Unix()
	keyCreated := now // the key's creationTime, which the trap sends
	clock.Advance(time.Hour)
	now = clock.Now().Unix()

	const (
		refundPath = "/sell/fulfillment/v1/order/12-34567-89012/issue_refund"
		txnPath    = "/sell/finances/v1/transaction"
	)
	ed := sigReq{jwe: jwe, priv: priv, created: now}
	tests := []struct {
		name       string
		method     string
		path       string // with any query
		body       string
		sr         sigReq
		edit       func(*http.Request)
		wantStatus int
		wantError  int
	}{
		{"GET without body", "GET", txnPath + "?limit=5", "", ed, nil, 200, 0},
		{"POST with body", "POST", refundPath, refundBody, ed, nil, 200, 0},
		{"RSA PKCS1v15", "POST", refundPath, refundBody, sigReq{jwe: rsaJWE, priv: rsaPriv, created: now}, nil, 200, 0},
		{"keyid parameter", "GET", txnPath, "", sigReq{jwe: jwe, priv: priv, created: now, extra: `;keyid="k1"`}, nil, 200, 0},
		{"created 4 minutes ago", "GET", txnPath, "", sigReq{jwe: jwe, priv: priv, created: now - 240}, nil, 200, 0},

		{"no signature key", "GET", txnPath, "", ed, func(r *http.Request) { r.Header.Del("X-Ebay-Signature-Key") }, 403, 215001},
		{"no headers at all", "POST", refundPath, refundBody, ed, func(r *http.Request) {
			for _, h := range []string{"X-Ebay-Signature-Key", "Signature", "Signature-Input", "Content-Digest"} {
				r.Header.Del(h)
			}
		}, 403, 215001},
		{"created 10 minutes ago", "GET", txnPath, "", sigReq{jwe: jwe, priv: priv, created: now - 600}, nil, 403, 215114},
		{"created 10 minutes ahead", "GET", txnPath, "", sigReq{jwe: jwe, priv: priv, created: now + 600}, nil, 403, 215114},
		{"created is the key's creationTime", "GET", txnPath, "", sigReq{jwe: jwe, priv: priv, created: keyCreated}, nil, 403, 215114},
		{"created in milliseconds", "GET", txnPath, "", sigReq{jwe: jwe, priv: priv, created: now * 1000}, nil, 403, 215114},
		{"signature tampered", "GET", txnPath, "", ed, func(r *http.Request) {
			v := r.Header.Get("Signature")
			r.Header.Set("Signature", v[:10]+flip(v[10])+v[11:])
		}, 403, 215120},
		{"signed by another key", "GET", txnPath, "", sigReq{jwe: otherJWE, priv: priv, created: now}, nil, 403, 215120},
		{"key eBay never issued", "GET", txnPath, "", sigReq{jwe: "eyJ.not.a.known.jwe", priv: unknownPriv, created: now}, nil, 403, 215120},
		{"RSA-PSS", "POST", refundPath, refundBody, sigReq{jwe: rsaJWE, priv: rsaPriv, created: now, pss: true}, nil, 403, 215120},
		{"query string in @path", "GET", txnPath + "?limit=5", "", sigReq{jwe: jwe, priv: priv, created: now, basePath: txnPath + "?limit=5"}, nil, 403, 215120},
		{"body changed after signing", "POST", refundPath, refundBody, ed, func(r *http.Request) {
			r.Body = readCloser(strings.Replace(refundBody, "24.99", "94.99", 1))
		}, 403, 215120},
		{"Content-Digest missing", "POST", refundPath, refundBody, sigReq{jwe: jwe, priv: priv, created: now,
			components: []string{"x-ebay-signature-key", "@method", "@path", "@authority"}}, func(r *http.Request) {
			r.Header.Del("Content-Digest")
		}, 403, 215122},
		{"content-digest not covered", "POST", refundPath, refundBody, sigReq{jwe: jwe, priv: priv, created: now,
			components: []string{"x-ebay-signature-key", "@method", "@path", "@authority"}}, nil, 403, 215122},
		{"Content-Digest sha-512", "POST", refundPath, refundBody, ed, func(r *http.Request) {
			r.Header.Set("Content-Digest", strings.Replace(r.Header.Get("Content-Digest"), "sha-256", "sha-512", 1))
		}, 403, 215122},
		{"@authority not covered", "GET", txnPath, "", sigReq{jwe: jwe, priv: priv, created: now,
			components: []string{"x-ebay-signature-key", "@method", "@path"}}, nil, 403, 215122},
		{"alg parameter", "GET", txnPath, "", sigReq{jwe: jwe, priv: priv, created: now, extra: `;alg="ed25519"`}, nil, 403, 215122},
		{"expires parameter", "GET", txnPath, "", sigReq{jwe: jwe, priv: priv, created: now, extra: ";expires=" + strconv.FormatInt(now+60, 10)}, nil, 403, 215122},
		{"Signature without colons", "GET", txnPath, "", ed, func(r *http.Request) {
			r.Header.Set("Signature", strings.Trim(r.Header.Get("Signature"), ":"))
		}, 403, 215122},
		{"labels differ", "GET", txnPath, "", ed, func(r *http.Request) {
			r.Header.Set("Signature", "sig2"+strings.TrimPrefix(r.Header.Get("Signature"), "sig1"))
		}, 403, 215122},
		{"component not quoted", "GET", txnPath, "", ed, func(r *http.Request) {
			r.Header.Set("Signature-Input", strings.Replace(r.Header.Get("Signature-Input"), `"@method"`, `@method"`, 1))
		}, 403, 215122},
		{"Signature-Input missing", "GET", txnPath, "", ed, func(r *http.Request) { r.Header.Del("Signature-Input") }, 403, 215122},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			verified, rejected := srv.VerifiedSignatures(), srv.RejectedSignatures(tt.wantError)
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", user)
			signRequest(t, req, tt.body, tt.sr)
			if tt.edit != nil {
				tt.edit(req)
			}
			status, _, body := do(t, srv, req)
			if status != tt.wantStatus || errorID(t, body) != tt.wantError {
				t.Fatalf("got %d %s; want %d with errorId %d", status, body, tt.wantStatus, tt.wantError)
			}
			if tt.wantError == 0 {
				if got := srv.VerifiedSignatures(); got != verified+1 {
					t.Errorf("VerifiedSignatures: got %d; want %d", got, verified+1)
				}
				return
			}
			if got := srv.RejectedSignatures(tt.wantError); got != rejected+1 {
				t.Errorf("RejectedSignatures(%d): got %d; want %d", tt.wantError, got, rejected+1)
			}
			if !strings.Contains(body, `"domain":"ACCESS"`) {
				t.Errorf("body %s; want domain ACCESS", body)
			}
		})
	}
	if got, want := srv.RejectedSignatures(0), 22; got != want {
		t.Errorf("RejectedSignatures(0): got %d; want %d", got, want)
	}
}

func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

type stringBody struct{ *strings.Reader }

func (stringBody) Close() error { return nil }

func readCloser(s string) stringBody { return stringBody{strings.NewReader(s)} }

func TestSignatureBaseAndWindow(t *testing.T) {
	srv := newServer(t)
	clock := ebaytest.NewClock(time.Now())
	srv.SetNow(clock.Now)
	user := "Bearer " + userToken(t, srv)
	_, jwe, priv := srv.IssueSigningKey(ebaytest.CipherEd25519)

	send := func(created int64) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("POST", srv.URL+"/sell/fulfillment/v1/order/1/issue_refund", strings.NewReader(refundBody))
		req.Header.Set("Authorization", user)
		signRequest(t, req, refundBody, sigReq{jwe: jwe, priv: priv, created: created})
		status, _, body := do(t, srv, req)
		return status, body
	}
	created := clock.Now().Unix()
	if status, body := send(created); status != 200 || !strings.Contains(body, `"refundStatus":"PENDING"`) {
		t.Fatalf("got %d %s; want 200 and a PENDING refund", status, body)
	}
	sum := sha256.Sum256([]byte(refundBody))
	want := `"content-digest": sha-256=:` + base64.StdEncoding.EncodeToString(sum[:]) + ":\n" +
		`"x-ebay-signature-key": ` + jwe + "\n" +
		`"@method": POST` + "\n" +
		`"@path": /sell/fulfillment/v1/order/1/issue_refund` + "\n" +
		`"@authority": ` + strings.TrimPrefix(srv.URL, "http://") + "\n" +
		`"@signature-params": ("content-digest" "x-ebay-signature-key" "@method" "@path" "@authority");created=` + strconv.FormatInt(created, 10)
	if got := srv.LastSignatureBase(); got != want {
		t.Errorf("LastSignatureBase:\ngot  %q\nwant %q", got, want)
	}

	srv.SetSignatureWindow(time.Minute)
	clock.Advance(2 * time.Minute)
	if status, body := send(created); status != 403 || errorID(t, body) != 215114 {
		t.Errorf("after 2 minutes with a 1-minute window: got %d %s; want 403/215114", status, body)
	}
	srv.SetSignatureWindow(0) // back to 5 minutes
	if status, body := send(created); status != 200 {
		t.Errorf("after 2 minutes with the default window: got %d %s; want 200", status, body)
	}
	clock.Advance(ebaytest.SigningKeyLifetime)
	user = "Bearer " + userToken(t, srv) // the old one expired long ago
	if status, body := send(clock.Now().Unix()); status != 403 || errorID(t, body) != 215120 {
		t.Errorf("with an expired key: got %d %s; want 403/215120", status, body)
	}
}

func TestSignedMethodsTokens(t *testing.T) {
	srv := newServer(t)
	app := "Bearer " + appToken(t, srv, ebayauth.ScopeAPI)
	tests := []struct {
		name       string
		auth       string
		wantStatus int
		wantError  int
	}{
		{"no token", "", 400, 1002},
		{"unknown token", "Bearer v^1.1#nope", 401, 1001},
		{"application token", app, 403, 1100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, p := range []struct{ method, path string }{
				{"GET", "/sell/finances/v1/transaction"},
				{"POST", "/sell/fulfillment/v1/order/1/issue_refund"},
			} {
				status, body := call(t, srv, p.method, p.path, tt.auth, refundBody)
				if status != tt.wantStatus || errorID(t, body) != tt.wantError {
					t.Errorf("%s %s: got %d %s; want %d with errorId %d", p.method, p.path, status, body, tt.wantStatus, tt.wantError)
				}
			}
		})
	}
	if n := srv.RejectedSignatures(0) + srv.VerifiedSignatures(); n != 0 {
		t.Errorf("signatures checked before the token: got %d; want 0", n)
	}
}

func TestKeyManagement(t *testing.T) {
	srv := newServer(t)
	clock := ebaytest.NewClock(time.Unix(1700000000, 0))
	srv.SetNow(clock.Now)
	app := "Bearer " + appToken(t, srv, ebayauth.ScopeAPI)
	const path = "/developer/key_management/v1/signing_key"

	var created []map[string]any
	for _, cipher := range []string{"ED25519", "RSA"} {
		status, body := call(t, srv, "POST", path, app, `{"signingKeyCipher":"`+cipher+`"}`)
		if status != 200 {
			t.Fatalf("create %s: got %d %s; want 200", cipher, status, body)
		}
		var k map[string]any
		if err := json.Unmarshal([]byte(body), &k); err != nil {
			t.Fatal(err)
		}
		want := []string{"creationTime", "expirationTime", "jwe", "privateKey", "publicKey", "signingKeyCipher", "signingKeyId"}
		if got := keys(k); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("create %s fields: got %q; want %q", cipher, got, want)
		}
		if k["signingKeyCipher"] != cipher || k["creationTime"] != 1700000000.0 || k["expirationTime"] != float64(1700000000+3*365*24*3600) {
			t.Errorf("create %s: got %v", cipher, k)
		}
		der, err := base64.StdEncoding.DecodeString(k["privateKey"].(string))
		if err != nil {
			t.Fatalf("privateKey is not standard base64: %v", err)
		}
		priv, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			t.Fatalf("privateKey is not PKCS #8: %v", err)
		}
		if _, isRSA := priv.(*rsa.PrivateKey); isRSA != (cipher == "RSA") {
			t.Errorf("create %s: private key is a %T", cipher, priv)
		}
		if jwe := k["jwe"].(string); strings.Count(jwe, ".") != 4 || !strings.HasPrefix(jwe, "eyJ") {
			t.Errorf("jwe %q: want five base64url segments", jwe)
		}
		created = append(created, k)
	}

	status, body := call(t, srv, "GET", path, app, "")
	if status != 200 || strings.Contains(body, "privateKey") {
		t.Fatalf("list: got %d %s; want 200 without privateKey", status, body)
	}
	var list struct {
		SigningKeys []map[string]any `json:"signingKeys"`
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil || len(list.SigningKeys) != 2 {
		t.Fatalf("list: got %s; want two keys", body)
	}
	for i, k := range list.SigningKeys {
		if k["signingKeyId"] != created[i]["signingKeyId"] || k["jwe"] != created[i]["jwe"] {
			t.Errorf("list[%d]: got %v; want key %v", i, k["signingKeyId"], created[i]["signingKeyId"])
		}
	}

	status, body = call(t, srv, "GET", path+"/"+created[1]["signingKeyId"].(string), app, "")
	if status != 200 || strings.Contains(body, "privateKey") || !strings.Contains(body, created[1]["publicKey"].(string)) {
		t.Errorf("get: got %d %s; want 200 with the public key and no privateKey", status, body)
	}

	user := "Bearer " + userToken(t, srv)
	errs := []struct {
		name, method, path, auth, body string
		wantStatus, wantError          int
	}{
		{"unknown id", "GET", path + "/00000000-0000-4000-8000-000000000000", app, "", 404, 2002},
		{"unknown cipher", "POST", path, app, `{"signingKeyCipher":"ECDSA"}`, 400, 2004},
		{"not JSON", "POST", path, app, `signingKeyCipher=RSA`, 400, 2004},
		{"user token", "POST", path, user, `{"signingKeyCipher":"ED25519"}`, 403, 1100},
		{"user token lists", "GET", path, user, "", 403, 1100},
		{"no token", "GET", path, "", "", 400, 1002},
	}
	for _, tt := range errs {
		if status, body := call(t, srv, tt.method, tt.path, tt.auth, tt.body); status != tt.wantStatus || errorID(t, body) != tt.wantError {
			t.Errorf("%s: got %d %s; want %d with errorId %d", tt.name, status, body, tt.wantStatus, tt.wantError)
		}
	}
}

func TestIssueSigningKeyPanics(t *testing.T) {
	srv := newServer(t)
	defer func() {
		if recover() == nil {
			t.Error("IssueSigningKey(\"DSA\") did not panic")
		}
	}()
	srv.IssueSigningKey("DSA")
}
