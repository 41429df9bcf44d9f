package ebaytest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"

	"github.com/ebayauth/ebayauth"
)

// TopicAccountDeletion is the topic of Marketplace Account Deletion notices.
const TopicAccountDeletion = "MARKETPLACE_ACCOUNT_DELETION"

// publicKeyPath is the Notification API's getPublicKey, without the key id.
const publicKeyPath = "/commerce/notification/v1/public_key/"

// errKeyNotFound answers getPublicKey for an unknown key id; errorId and
// texts are guesses. errNotificationInternal is eBay's generic internal
// error of the Notification API.
var (
	errKeyNotFound = envelope(195001, "API_NOTIFICATION", "The specified public key was not found.",
		"The specified public key ID was not found. Check the key ID in the X-EBAY-SIGNATURE header.")
	errNotificationInternal = envelope(195000, "API_NOTIFICATION",
		"There was a problem with an eBay internal system or process. Contact eBay developer support for assistance.",
		"There was a problem with an eBay internal system or process. Contact eBay developer support for assistance.")
)

// notifyState is the Server's Notification API: the key it signs notices
// with and the keys getPublicKey serves. Guarded by Server.mu.
type notifyState struct {
	key      *ecdsa.PrivateKey
	kid      string
	keys     map[string]string // kid → base64 SPKI
	requests int               // getPublicKey requests, whatever their answer
	failN    int
	failCode int
}

// newNotifyState generates the Server's ECDSA P-256 signing key.
func newNotifyState() notifyState {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic("ebaytest: generating the notification key: " + err.Error())
	}
	spki, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		panic("ebaytest: encoding the notification key: " + err.Error())
	}
	kid := newUUID()
	return notifyState{key: key, kid: kid, keys: map[string]string{kid: base64.StdEncoding.EncodeToString(spki)}}
}

// newUUID returns a random version-4 UUID, the shape of eBay's key and
// notification ids.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails since Go 1.24
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// NotificationKeyID returns the key id (kid) the Server signs notices with.
func (s *Server) NotificationKeyID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.notify.kid
}

// SetNotificationKey makes getPublicKey also serve the public key spki
// (standard base64 of a DER SubjectPublicKeyInfo, as in eBay's published
// test vector) under kid, so that notices signed elsewhere can be verified
// against the fake. It panics if spki is not an ECDSA public key.
func (s *Server) SetNotificationKey(kid, spki string) {
	der, err := base64.StdEncoding.DecodeString(spki)
	if err != nil {
		panic("ebaytest: SetNotificationKey: " + err.Error())
	}
	if k, err := x509.ParsePKIXPublicKey(der); err != nil {
		panic("ebaytest: SetNotificationKey: " + err.Error())
	} else if _, ok := k.(*ecdsa.PublicKey); !ok {
		panic(fmt.Sprintf("ebaytest: SetNotificationKey: %T is not an ECDSA key", k))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notify.keys[kid] = spki
}

// PublicKeyRequests reports how many requests reached getPublicKey, whatever
// their answer, so that tests can prove a client caches keys.
func (s *Server) PublicKeyRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.notify.requests
}

// FailPublicKey makes the next n getPublicKey requests with a valid
// application token answer status with eBay's internal-error envelope
// (errorId 195000); n < 0 fails all of them until FailPublicKey(0, 0).
func (s *Server) FailPublicKey(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notify.failN, s.notify.failCode = n, status
}

// countKeyRequest counts a getPublicKey request before h sees it.
func (s *Server) countKeyRequest(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.notify.requests++
		s.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

// publicKeyResponse is getPublicKey's answer.
type publicKeyResponse struct {
	Key       string `json:"key"`
	Algorithm string `json:"algorithm"`
	Digest    string `json:"digest"`
}

// servePublicKey is the Notification API's GET
// /commerce/notification/v1/public_key/{public_key_id}. It needs an
// application token with ebayauth.ScopeAPI: a user token is answered
// 403/1100 (eBay documents only that the call needs the client credentials
// grant).
func (s *Server) servePublicKey(w http.ResponseWriter, r *http.Request, _ []byte, scopes []string) {
	t, ok := s.bearer(r)
	switch {
	case !ok:
		writeJSON(w, http.StatusUnauthorized, errInvalidToken)
		return
	case t.user || !slices.Contains(scopes, ebayauth.ScopeAPI):
		writeJSON(w, http.StatusForbidden, errAccessDenied)
		return
	}
	s.mu.Lock()
	fail := s.notify.failN != 0
	if s.notify.failN > 0 {
		s.notify.failN--
	}
	status := s.notify.failCode
	spki, found := s.notify.keys[r.PathValue("public_key_id")]
	s.mu.Unlock()
	switch {
	case fail:
		writeJSON(w, status, errNotificationInternal)
	case !found:
		writeJSON(w, http.StatusNotFound, errKeyNotFound)
	default:
		writeJSON(w, http.StatusOK, publicKeyResponse{
			Key:       "-----BEGIN PUBLIC KEY-----" + spki + "-----END PUBLIC KEY-----",
			Algorithm: "ECDSA",
			Digest:    "SHA1",
		})
	}
}

// signatureHeader is X-EBAY-SIGNATURE before its base64 encoding.
type signatureHeader struct {
	Alg       string `json:"alg"`
	KID       string `json:"kid"`
	Signature string `json:"signature"`
	Digest    string `json:"digest"`
}

// SignNotification returns the X-EBAY-SIGNATURE header eBay would send with
// body: SHA1withECDSA over the exact bytes, by the Server's key.
func (s *Server) SignNotification(body []byte) string {
	s.mu.Lock()
	key, kid := s.notify.key, s.notify.kid
	s.mu.Unlock()
	digest := sha1.Sum(body)
	sig, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	if err != nil {
		panic("ebaytest: signing a notification: " + err.Error())
	}
	h, _ := json.Marshal(signatureHeader{"ecdsa", kid, base64.StdEncoding.EncodeToString(sig), "SHA1"})
	return base64.StdEncoding.EncodeToString(h)
}

// deletionNotice is a Marketplace Account Deletion notice, fields in eBay's
// order.
type deletionNotice struct {
	Metadata struct {
		Topic         string `json:"topic"`
		SchemaVersion string `json:"schemaVersion"`
		Deprecated    bool   `json:"deprecated"`
	} `json:"metadata"`
	Notification struct {
		NotificationID      string `json:"notificationId"`
		EventDate           string `json:"eventDate"`
		PublishDate         string `json:"publishDate"`
		PublishAttemptCount int    `json:"publishAttemptCount"`
		Data                struct {
			Username  string `json:"username"`
			UserID    string `json:"userId"`
			EIASToken string `json:"eiasToken"`
		} `json:"data"`
	} `json:"notification"`
}

// eventTime is how eBay writes times in notices: UTC, milliseconds.
const eventTime = "2006-01-02T15:04:05.000Z"

// DeletionNotice returns the body of a Marketplace Account Deletion notice
// for the user with userId id, as eBay writes it (compact JSON, dates by the
// Server's clock), and its X-EBAY-SIGNATURE header. Tests that want to
// tamper with a notice start here; SendDeletionNotice sends one.
func (s *Server) DeletionNotice(id string) (body []byte, signature string, err error) {
	s.mu.Lock()
	u, ok := s.users[id]
	var n deletionNotice
	if ok {
		now := s.now().UTC().Format(eventTime)
		n.Metadata.Topic = TopicAccountDeletion
		n.Metadata.SchemaVersion = "1.0"
		n.Notification.NotificationID = newUUID() + "_" + newUUID()
		n.Notification.EventDate = now
		n.Notification.PublishDate = now
		n.Notification.PublishAttemptCount = 1
		n.Notification.Data.Username = u.Username
		n.Notification.Data.UserID = u.ID
		n.Notification.Data.EIASToken = u.eiasToken
	}
	s.mu.Unlock()
	if !ok {
		return nil, "", fmt.Errorf("ebaytest: DeletionNotice: no user %q", id)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(n); err != nil {
		return nil, "", fmt.Errorf("ebaytest: DeletionNotice: %w", err)
	}
	body = bytes.TrimSuffix(b.Bytes(), []byte("\n"))
	return body, s.SignNotification(body), nil
}

// SendDeletionNotice POSTs a signed Marketplace Account Deletion notice for
// the user with userId id to endpoint, as eBay does when a seller closes
// their account, and returns the status the endpoint answered. endpoint
// must be on a loopback address. The fake does not retry a failed delivery
// (eBay does) and changes nothing about the user.
func (s *Server) SendDeletionNotice(ctx context.Context, endpoint, id string) (status int, err error) {
	body, sig, err := s.DeletionNotice(id)
	if err != nil {
		return 0, err
	}
	return s.PostNotification(ctx, endpoint, body, sig)
}

// PostNotification POSTs body with the X-EBAY-SIGNATURE header signature to
// endpoint, a loopback URL, the way eBay delivers notices, and returns the
// status answered. With DeletionNotice and SignNotification it lets a test
// deliver a notice it changed.
func (s *Server) PostNotification(ctx context.Context, endpoint string, body []byte, signature string) (int, error) {
	if err := checkLoopback(endpoint); err != nil {
		return 0, fmt.Errorf("ebaytest: PostNotification: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("ebaytest: PostNotification: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-EBAY-SIGNATURE", signature)
	resp, err := notifyClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("ebaytest: PostNotification: %w", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
	return resp.StatusCode, nil
}

// VerifyChallenge does what eBay does when an endpoint is registered: it
// sends GET endpoint?challenge_code=<random> and checks that the answer is
// 200, application/json, {"challengeResponse": hex SHA-256 of the code, the
// verification token and endpoint}. endpoint must be on a loopback address.
// The error says what was wrong; it never contains the token.
func (s *Server) VerifyChallenge(ctx context.Context, endpoint, verificationToken string) error {
	if err := checkLoopback(endpoint); err != nil {
		return fmt.Errorf("ebaytest: VerifyChallenge: %w", err)
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return fmt.Errorf("ebaytest: VerifyChallenge: %w", err)
	}
	code := newUUID()
	q := u.Query()
	q.Set("challenge_code", code)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fmt.Errorf("ebaytest: VerifyChallenge: %w", err)
	}
	resp, err := notifyClient.Do(req)
	if err != nil {
		return fmt.Errorf("ebaytest: VerifyChallenge: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("ebaytest: VerifyChallenge: reading the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("ebaytest: VerifyChallenge: endpoint answered %s", resp.Status)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" {
		return fmt.Errorf("ebaytest: VerifyChallenge: Content-Type %q is not application/json", resp.Header.Get("Content-Type"))
	}
	var answer struct {
		ChallengeResponse string `json:"challengeResponse"`
	}
	if err := json.Unmarshal(b, &answer); err != nil {
		return fmt.Errorf("ebaytest: VerifyChallenge: answer is not JSON: %w", err)
	}
	sum := sha256.Sum256([]byte(code + verificationToken + endpoint))
	if answer.ChallengeResponse != hex.EncodeToString(sum[:]) {
		return errors.New("ebaytest: VerifyChallenge: wrong challengeResponse (different verification token or endpoint URL?)")
	}
	return nil
}

// notifyClient delivers notices and challenges. It keeps no idle
// connections, so no goroutine outlives a delivery, and follows no
// redirects.
var notifyClient = &http.Client{
	Transport: &http.Transport{DisableKeepAlives: true},
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
}

// checkLoopback accepts http(s) URLs whose host is localhost or a loopback
// IP address, so that a test never notifies a real server.
func checkLoopback(endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil {
		return err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q is not an http(s) URL", u.Redacted())
	}
	h := u.Hostname()
	if ip := net.ParseIP(h); h != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("%q is not a loopback address", h)
	}
	return nil
}
