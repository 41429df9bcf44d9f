package ebaytest

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Paths of the Key Management API and of the two signed methods the Server
// serves, relative to Server.URL.
const (
	signingKeyPath  = "/developer/key_management/v1/signing_key"
	transactionPath = "/sell/finances/v1/transaction"
	issueRefundPath = "/sell/fulfillment/v1/order/{orderId}/issue_refund"
)

// Signing-key ciphers, as the Key Management API names them.
const (
	CipherEd25519 = "ED25519"
	CipherRSA     = "RSA"
)

// RSAKeyBits is the size of the RSA keys the Server generates.
const RSAKeyBits = 2048

// SigningKeyLifetime is how long signing keys live, as on eBay.
const SigningKeyLifetime = 3 * 365 * 24 * time.Hour

// DefaultSignatureWindow is how far the created parameter of a signature
// may be from the Server's clock, either way, unless SetSignatureWindow says
// otherwise. eBay does not document its window.
const DefaultSignatureWindow = 5 * time.Minute

// The errorIds the Server answers, with HTTP 403, to a signature it
// refuses.
const (
	// ErrorMissingSignatureKey: no x-ebay-signature-key header.
	ErrorMissingSignatureKey = 215001
	// ErrorCreatedOutOfRange: created is further than the signature window
	// from the Server's clock.
	ErrorCreatedOutOfRange = 215114
	// ErrorSignatureInvalid: the signature does not verify, the key is not
	// one the Server issued (or has expired), or the body does not match
	// Content-Digest.
	ErrorSignatureInvalid = 215120
	// ErrorSignatureMalformed: Signature-Input, Signature or Content-Digest
	// is missing or not in the form eBay parses, or the covered components
	// are not those eBay requires.
	ErrorSignatureMalformed = 215122
)

// REST error bodies of the signature and Key Management APIs. The 215xxx
// texts are eBay's as seen in real answers; eBay does not document how
// 215120 and 215122 differ.
var (
	errMissingSignatureKey = envelope(ErrorMissingSignatureKey, "ACCESS", "Missing x-ebay-signature-key header",
		"Missing x-ebay-signature-key header to fulfill the request.")
	errCreatedOutOfRange = envelope(ErrorCreatedOutOfRange, "ACCESS", "The create time of signature parameters is not in right range",
		"The create time of signature parameters is not in right range to fulfill the request.")
	errSignatureInvalid = envelope(ErrorSignatureInvalid, "ACCESS", "Signature validation failed",
		"Signature validation failed to fulfill the request.")
	errSignatureMalformed = envelope(ErrorSignatureMalformed, "ACCESS", "Signature validation failed",
		"Signature validation failed to fulfill the request.")
	errResourceNotFound = envelope(2002, "ACCESS", "Resource not found",
		"A resource (URI) associated with the request could not be resolved.")
)

// signatureErrors maps an errorId to its body.
var signatureErrors = map[int]restErrors{
	ErrorMissingSignatureKey: errMissingSignatureKey,
	ErrorCreatedOutOfRange:   errCreatedOutOfRange,
	ErrorSignatureInvalid:    errSignatureInvalid,
	ErrorSignatureMalformed:  errSignatureMalformed,
}

// signatures is the Server's signature state, guarded by Server.mu.
type signatures struct {
	keys     []*signingKey // in order of creation
	byJWE    map[string]*signingKey
	window   time.Duration // 0: DefaultSignatureWindow
	verified int
	rejected map[int]int // by errorId
	lastBase string
	refunds  int
}

// signingKey is what the Server remembers of a signing key: never the
// private key, which eBay does not keep either.
type signingKey struct {
	id, cipher, jwe string
	publicKey       string // standard base64 of the SPKI DER
	pub             crypto.PublicKey
	created, expiry time.Time
}

// signingKeyJSON is a signing key as the Key Management API answers it.
type signingKeyJSON struct {
	SigningKeyID     string `json:"signingKeyId"`
	SigningKeyCipher string `json:"signingKeyCipher"`
	CreationTime     int64  `json:"creationTime"`
	ExpirationTime   int64  `json:"expirationTime"`
	JWE              string `json:"jwe"`
	PublicKey        string `json:"publicKey"`
	PrivateKey       string `json:"privateKey,omitempty"`
}

func (k *signingKey) json() signingKeyJSON {
	return signingKeyJSON{k.id, k.cipher, k.created.Unix(), k.expiry.Unix(), k.jwe, k.publicKey, ""}
}

// handleSignatures registers the Key Management API and the signed
// methods.
func (s *Server) handleSignatures(mux *http.ServeMux) {
	mux.Handle("POST "+signingKeyPath, s.api(s.tokenKind(false, s.serveCreateSigningKey)))
	mux.Handle("GET "+signingKeyPath, s.api(s.tokenKind(false, s.serveSigningKeys)))
	mux.Handle("GET "+signingKeyPath+"/{signing_key_id}", s.api(s.tokenKind(false, s.serveSigningKey)))
	mux.Handle("GET "+transactionPath, s.api(s.tokenKind(true, s.signed(s.serveTransactions))))
	mux.Handle("POST "+issueRefundPath, s.api(s.tokenKind(true, s.signed(s.serveIssueRefund))))
}

// tokenKind guards a method that needs a user token (user) or an
// application token (!user); the other kind gets 403/1100.
func (s *Server) tokenKind(user bool, h apiHandler) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, body []byte, scopes []string) {
		_, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		s.mu.Lock()
		t := s.lookup(token)
		s.mu.Unlock()
		switch {
		case t == nil: // revoked since api checked it
			writeJSON(w, http.StatusUnauthorized, errInvalidToken)
		case t.user != user:
			writeJSON(w, http.StatusForbidden, errAccessDenied)
		default:
			h(w, r, body, scopes)
		}
	}
}

// SetSignatureWindow sets how far created may be from the Server's clock,
// either way, for a signature to be accepted; d <= 0 restores
// DefaultSignatureWindow.
func (s *Server) SetSignatureWindow(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sig.window = d
}

// VerifiedSignatures reports how many signed requests the Server accepted.
func (s *Server) VerifiedSignatures() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sig.verified
}

// RejectedSignatures reports how many requests the Server refused with
// errorID (one of the Error… constants); 0 counts every refusal.
func (s *Server) RejectedSignatures(errorID int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if errorID != 0 {
		return s.sig.rejected[errorID]
	}
	n := 0
	for _, c := range s.sig.rejected {
		n += c
	}
	return n
}

// LastSignatureBase returns the signature base the Server computed for the
// last signed request it got that far with, "" if none: what the client
// should have signed.
func (s *Server) LastSignatureBase() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sig.lastBase
}

// IssueSigningKey creates a signing key of cipher (CipherEd25519 or
// CipherRSA) as createSigningKey would, without an API call, and returns its
// id, JWE and private key. It panics on any other cipher.
func (s *Server) IssueSigningKey(cipher string) (id, jwe string, priv crypto.Signer) {
	k, priv, err := s.newSigningKey(cipher)
	if err != nil {
		panic("ebaytest: IssueSigningKey: " + err.Error())
	}
	return k.id, k.jwe, priv
}

// newSigningKey generates a key pair of cipher and remembers its public
// half.
func (s *Server) newSigningKey(cipher string) (*signingKey, crypto.Signer, error) {
	var priv crypto.Signer
	switch cipher {
	case CipherEd25519:
		_, p, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		priv = p
	case CipherRSA:
		p, err := rsa.GenerateKey(rand.Reader, RSAKeyBits)
		if err != nil {
			return nil, nil, err
		}
		priv = p
	default:
		return nil, nil, fmt.Errorf("unknown cipher %q", cipher)
	}
	spki, err := x509.MarshalPKIXPublicKey(priv.Public())
	if err != nil {
		return nil, nil, err
	}
	id := newUUID()
	k := &signingKey{
		id:        id,
		cipher:    cipher,
		jwe:       newJWE(id),
		publicKey: base64.StdEncoding.EncodeToString(spki),
		pub:       priv.Public(),
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k.created = s.now().Truncate(time.Second)
	k.expiry = k.created.Add(SigningKeyLifetime)
	if s.sig.byJWE == nil {
		s.sig.byJWE = map[string]*signingKey{}
	}
	s.sig.keys = append(s.sig.keys, k)
	s.sig.byJWE[k.jwe] = k
	return k, priv, nil
}

// newJWE returns a string in the shape of eBay's JWEs (five base64url
// segments, a header naming A256GCMKW, A256GCM, DEF and the key id) that
// means nothing: the Server finds the key by the whole string.
func newJWE(id string) string {
	seg := func(n int) string {
		b := make([]byte, n)
		rand.Read(b)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	header := `{"zip":"DEF","kid":"` + id + `","enc":"A256GCM","tag":"` + seg(16) + `","alg":"A256GCMKW","iv":"` + seg(12) + `"}`
	return base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + seg(32) + "." + seg(12) + "." + seg(120) + "." + seg(16)
}

// serveCreateSigningKey is POST /developer/key_management/v1/signing_key.
func (s *Server) serveCreateSigningKey(w http.ResponseWriter, _ *http.Request, body []byte, _ []string) {
	var req struct {
		Cipher string `json:"signingKeyCipher"`
	}
	if err := json.Unmarshal(body, &req); err != nil || (req.Cipher != CipherEd25519 && req.Cipher != CipherRSA) {
		writeJSON(w, http.StatusBadRequest, errInvalidBody)
		return
	}
	k, priv, err := s.newSigningKey(req.Cipher)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, envelope(1004, "API_KEY_MANAGEMENT", "Internal error", err.Error()))
		return
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, envelope(1004, "API_KEY_MANAGEMENT", "Internal error", err.Error()))
		return
	}
	j := k.json()
	j.PrivateKey = base64.StdEncoding.EncodeToString(der)
	writeJSON(w, http.StatusOK, j)
}

// serveSigningKeys is GET /developer/key_management/v1/signing_key.
func (s *Server) serveSigningKeys(w http.ResponseWriter, _ *http.Request, _ []byte, _ []string) {
	s.mu.Lock()
	keys := make([]signingKeyJSON, len(s.sig.keys))
	for i, k := range s.sig.keys {
		keys[i] = k.json()
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, struct {
		SigningKeys []signingKeyJSON `json:"signingKeys"`
	}{keys})
}

// serveSigningKey is GET /developer/key_management/v1/signing_key/{id}.
func (s *Server) serveSigningKey(w http.ResponseWriter, r *http.Request, _ []byte, _ []string) {
	id := r.PathValue("signing_key_id")
	s.mu.Lock()
	var found *signingKeyJSON
	for _, k := range s.sig.keys {
		if k.id == id {
			j := k.json()
			found = &j
			break
		}
	}
	s.mu.Unlock()
	if found == nil {
		writeJSON(w, http.StatusNotFound, errResourceNotFound)
		return
	}
	writeJSON(w, http.StatusOK, found)
}

// signed guards a method that needs a valid signature, counting what it
// accepts and refuses.
func (s *Server) signed(h apiHandler) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, body []byte, scopes []string) {
		errorID, base := s.verifySignature(r, body)
		s.mu.Lock()
		if base != "" {
			s.sig.lastBase = base
		}
		if errorID == 0 {
			s.sig.verified++
		} else {
			if s.sig.rejected == nil {
				s.sig.rejected = map[int]int{}
			}
			s.sig.rejected[errorID]++
		}
		s.mu.Unlock()
		if errorID != 0 {
			writeJSON(w, http.StatusForbidden, signatureErrors[errorID])
			return
		}
		h(w, r, body, scopes)
	}
}

// The forms eBay's verifier parses: Signature-Input is a label, the
// component list and created, optionally keyid, and nothing else;
// Signature is a label and base64 between colons.
var (
	signatureInputRE = regexp.MustCompile(`^([A-Za-z0-9_.*-]+)=(\(([^()]*)\);created=([0-9]{1,18})(?:;keyid=[^;]+)?)$`)
	signatureRE      = regexp.MustCompile(`^([A-Za-z0-9_.*-]+)=:([A-Za-z0-9+/]+={0,2}):$`)
	contentDigestRE  = regexp.MustCompile(`^sha-256=:([A-Za-z0-9+/]+={0,2}):$`)
)

// verifySignature checks r's signature as eBay does and returns 0 or the
// errorId to refuse it with, and the signature base if it got that far.
func (s *Server) verifySignature(r *http.Request, body []byte) (errorID int, base string) {
	jwe := r.Header.Get("X-Ebay-Signature-Key")
	if jwe == "" {
		return ErrorMissingSignatureKey, ""
	}
	in := signatureInputRE.FindStringSubmatch(r.Header.Get("Signature-Input"))
	sm := signatureRE.FindStringSubmatch(r.Header.Get("Signature"))
	if in == nil || sm == nil || in[1] != sm[1] {
		return ErrorSignatureMalformed, ""
	}
	sig, err := base64.StdEncoding.DecodeString(sm[2])
	if err != nil {
		return ErrorSignatureMalformed, ""
	}
	created, err := strconv.ParseInt(in[4], 10, 64)
	if err != nil {
		return ErrorSignatureMalformed, ""
	}

	s.mu.Lock()
	now, window, key := s.now(), s.sig.window, s.sig.byJWE[jwe]
	s.mu.Unlock()
	if window <= 0 {
		window = DefaultSignatureWindow
	}
	if d := now.Sub(time.Unix(created, 0)); d > window || d < -window {
		return ErrorCreatedOutOfRange, ""
	}

	need := map[string]bool{"x-ebay-signature-key": true, "@method": true, "@path": true, "@authority": true}
	if len(body) > 0 {
		need["content-digest"] = true
	}
	var b strings.Builder
	seen := map[string]bool{}
	for _, c := range strings.Fields(in[3]) {
		name, quoted := strings.CutPrefix(c, `"`)
		name, closed := strings.CutSuffix(name, `"`)
		if !quoted || !closed || name == "" || seen[name] {
			return ErrorSignatureMalformed, ""
		}
		seen[name] = true
		var v string
		switch name {
		case "@method":
			v = r.Method
		case "@path":
			v = r.URL.EscapedPath()
		case "@authority":
			v = strings.TrimSuffix(strings.ToLower(r.Host), ":80")
		default:
			if strings.HasPrefix(name, "@") || name != strings.ToLower(name) {
				return ErrorSignatureMalformed, ""
			}
			vs := r.Header.Values(name)
			if len(vs) == 0 {
				return ErrorSignatureMalformed, ""
			}
			v = strings.Join(vs, ", ")
		}
		b.WriteString(`"` + name + `": ` + v + "\n")
	}
	for name := range need {
		if !seen[name] {
			return ErrorSignatureMalformed, ""
		}
	}
	b.WriteString(`"@signature-params": `)
	b.WriteString(in[2])
	base = b.String()

	if cd := r.Header.Get("Content-Digest"); cd != "" || len(body) > 0 {
		dm := contentDigestRE.FindStringSubmatch(cd)
		if dm == nil {
			return ErrorSignatureMalformed, base
		}
		sum := sha256.Sum256(body)
		if dm[1] != base64.StdEncoding.EncodeToString(sum[:]) {
			return ErrorSignatureInvalid, base
		}
	}
	if key == nil || !now.Before(key.expiry) {
		return ErrorSignatureInvalid, base
	}
	ok := false
	switch pub := key.pub.(type) {
	case ed25519.PublicKey:
		ok = ed25519.Verify(pub, []byte(base), sig)
	case *rsa.PublicKey:
		sum := sha256.Sum256([]byte(base))
		ok = rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig) == nil
	}
	if !ok {
		return ErrorSignatureInvalid, base
	}
	return 0, base
}

// transaction is one Finances API transaction, the fields the fake fills.
type transaction struct {
	TransactionID     string `json:"transactionId"`
	OrderID           string `json:"orderId"`
	TransactionType   string `json:"transactionType"`
	TransactionStatus string `json:"transactionStatus"`
	TransactionDate   string `json:"transactionDate"`
	BookingEntry      string `json:"bookingEntry"`
	Amount            price  `json:"amount"`
}

// serveTransactions is the Finances API's getTransactions: one sale, dated
// by the Server's clock.
func (s *Server) serveTransactions(w http.ResponseWriter, r *http.Request, _ []byte, _ []string) {
	s.mu.Lock()
	now := s.now()
	s.mu.Unlock()
	q := r.URL.Query()
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil || limit < 1 {
		limit = 20
	}
	offset, err := strconv.Atoi(q.Get("offset"))
	if err != nil || offset < 0 {
		offset = 0
	}
	all := []transaction{{
		TransactionID:     "FAKE-TXN-0001",
		OrderID:           "12-34567-89012",
		TransactionType:   "SALE",
		TransactionStatus: "PAYOUT",
		TransactionDate:   now.UTC().Format("2006-01-02T15:04:05.000Z"),
		BookingEntry:      "CREDIT",
		Amount:            price{"24.99", "GBP"},
	}}
	page := all[min(offset, len(all)):min(offset+min(limit, 1000), len(all))]
	writeJSON(w, http.StatusOK, struct {
		Href         string        `json:"href"`
		Limit        int           `json:"limit"`
		Offset       int           `json:"offset"`
		Total        int           `json:"total"`
		Transactions []transaction `json:"transactions"`
	}{s.URL + r.URL.RequestURI(), limit, offset, len(all), page})
}

// serveIssueRefund is the Fulfillment API's issueRefund: any JSON body is a
// refund, PENDING as eBay's always start.
func (s *Server) serveIssueRefund(w http.ResponseWriter, _ *http.Request, body []byte, _ []string) {
	if !json.Valid(body) {
		writeJSON(w, http.StatusBadRequest, errInvalidBody)
		return
	}
	s.mu.Lock()
	s.sig.refunds++
	id := strconv.Itoa(5005000500 + s.sig.refunds)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, struct {
		RefundID     string `json:"refundId"`
		RefundStatus string `json:"refundStatus"`
	}{id, "PENDING"})
}
