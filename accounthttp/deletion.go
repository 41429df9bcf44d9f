package accounthttp

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ebayauth/ebayauth"
)

// TopicAccountDeletion is the topic of Marketplace Account Deletion notices.
const TopicAccountDeletion = "MARKETPLACE_ACCOUNT_DELETION"

// DefaultKeyTTL is how long a notification public key is cached unless
// DeletionConfig.KeyTTL says otherwise: eBay recommends about an hour.
const DefaultKeyTTL = time.Hour

// MaxNoticeBytes bounds the body of a notice; eBay's are under 1 KiB.
// Larger bodies are answered 413 unread.
const MaxNoticeBytes = 64 << 10

// DeletionConfig configures NewDeletionHandler. VerificationToken,
// Endpoint, Keys and Delete are required; the zero value of every other
// field means what its comment says. It is read by NewDeletionHandler and
// not retained.
type DeletionConfig struct {
	// VerificationToken is the token entered at eBay with the endpoint
	// (Application Keys → Notifications): 32 to 80 characters of
	// A-Z a-z 0-9 _ -. It is a secret; the handler never logs it.
	VerificationToken string
	// Endpoint is the endpoint URL as registered at eBay, byte for byte:
	// the challenge hashes it, so a different scheme, host, port, trailing
	// slash or query breaks it. The handler itself can be mounted at any
	// path (behind a proxy, say); only this string is hashed.
	Endpoint string
	// Keys fetches eBay's notification public keys. It must carry an eBay
	// application token (client credentials, ebayauth.ScopeAPI), as the
	// Client of an ebayauth.Manager minting application tokens does.
	Keys *http.Client
	// APIURL is the base URL of the Notification API. Zero:
	// ebayauth.Production.APIURL; use ebayauth.Sandbox.APIURL for the
	// sandbox.
	APIURL string
	// Delete erases what the app holds of the seller with eBay's
	// immutable userId: refresh token, cached tokens, personal data. eBay
	// sends notices for every eBay account that closes, not just the
	// app's sellers, thousands a day, so Delete must be quick and return
	// nil for a userId it does not know. It must be idempotent: eBay
	// redelivers a notice it thinks failed. An error makes the handler
	// answer 500, so eBay tries again later.
	Delete func(ctx context.Context, userID string) error
	// KeyTTL is how long a fetched public key is cached. Zero:
	// DefaultKeyTTL.
	KeyTTL time.Duration
	// Clock tells time for the key cache. Nil: the system clock.
	Clock ebayauth.Clock
	// Logger receives the handler's logs. Nil: slog.Default(). Successful
	// deletions are logged at Debug (they are many) with a fingerprint of
	// the userId rather than the id, so the log does not keep what was
	// deleted; failures at Warn or Error.
	Logger *slog.Logger
}

// deletionHandler is the http.Handler NewDeletionHandler returns.
type deletionHandler struct {
	token    string
	endpoint string
	delete   func(context.Context, string) error
	keys     *keyCache
	log      *slog.Logger
}

// NewDeletionHandler returns the handler for the Marketplace Account
// Deletion endpoint registered at eBay:
//
//   - GET ?challenge_code=X answers eBay's endpoint challenge: 200,
//     application/json, {"challengeResponse": ChallengeResponse(X,
//     VerificationToken, Endpoint)}.
//   - POST verifies a notice and deletes the seller: the X-EBAY-SIGNATURE
//     header names a key, fetched from eBay's Notification API (cached per
//     key id for KeyTTL; concurrent misses share one fetch; failures are
//     not cached), and must be a valid SHA1withECDSA signature over the raw
//     body bytes. Then a MARKETPLACE_ACCOUNT_DELETION notice's userId goes
//     to Delete and the handler answers 204.
//
// A missing or bad signature, or a key id eBay does not know, is answered
// 412 and a key that cannot be fetched 500 (eBay retries); in both cases
// nothing is deleted. A notice of another topic is acknowledged (204) and
// ignored; one without userId is answered 400. Delete failing is answered
// 500. Bodies over MaxNoticeBytes get 413, other methods 405. The handler
// is safe for concurrent use.
func NewDeletionHandler(cfg DeletionConfig) (http.Handler, error) {
	bad := func(field, problem string) (http.Handler, error) {
		return nil, &ConfigError{Config: "DeletionConfig", Field: field, Problem: problem}
	}
	if problem := checkVerificationToken(cfg.VerificationToken); problem != "" {
		return bad("VerificationToken", problem)
	}
	if err := checkAbsoluteURL(cfg.Endpoint); err != nil {
		return bad("Endpoint", err.Error())
	}
	if cfg.Keys == nil {
		return bad("Keys", "is nil; it must be an *http.Client carrying an eBay application token")
	}
	if cfg.Delete == nil {
		return bad("Delete", "is nil")
	}
	apiURL := cfg.APIURL
	if apiURL == "" {
		apiURL = ebayauth.Production.APIURL
	}
	if err := checkAbsoluteURL(apiURL); err != nil {
		return bad("APIURL", err.Error())
	}
	ttl := cfg.KeyTTL
	switch {
	case ttl < 0:
		return bad("KeyTTL", fmt.Sprintf("is negative (%v)", ttl))
	case ttl == 0:
		ttl = DefaultKeyTTL
	}
	clock := cfg.Clock
	if clock == nil {
		clock = systemClock{}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &deletionHandler{
		token:    cfg.VerificationToken,
		endpoint: cfg.Endpoint,
		delete:   cfg.Delete,
		keys:     newKeyCache(cfg.Keys, strings.TrimSuffix(apiURL, "/"), ttl, clock.Now),
		log:      log,
	}, nil
}

// checkVerificationToken returns what is wrong with a verification token,
// "" if nothing. It never repeats the token.
func checkVerificationToken(tok string) string {
	if n := len(tok); n < 32 || n > 80 {
		return fmt.Sprintf("is %d characters long; eBay wants 32 to 80", n)
	}
	for _, c := range tok {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return "may hold only A-Z a-z 0-9 _ -"
		}
	}
	return ""
}

// checkAbsoluteURL accepts absolute http(s) URLs without a fragment.
func checkAbsoluteURL(s string) error {
	if s == "" {
		return errors.New("is empty")
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Fragment != "" {
		return fmt.Errorf("%q is not an absolute http(s) URL without fragment", s)
	}
	return nil
}

// ChallengeResponse is the answer to eBay's endpoint challenge: the
// lowercase hex SHA-256 of challengeCode, verificationToken and endpoint
// concatenated.
func ChallengeResponse(challengeCode, verificationToken, endpoint string) string {
	sum := sha256.Sum256([]byte(challengeCode + verificationToken + endpoint))
	return hex.EncodeToString(sum[:])
}

func (h *deletionHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		h.serveChallenge(w, r)
	case http.MethodPost:
		h.serveNotice(w, r)
	default:
		w.Header().Set("Allow", "GET, POST")
		httpError(w, http.StatusMethodNotAllowed)
	}
}

// httpError answers status with its text and nothing else: neither eBay
// nor a prober learns why.
func httpError(w http.ResponseWriter, status int) {
	http.Error(w, http.StatusText(status), status)
}

// serveChallenge answers GET ?challenge_code=….
func (h *deletionHandler) serveChallenge(w http.ResponseWriter, r *http.Request) {
	code := r.URL.Query().Get("challenge_code")
	if code == "" {
		httpError(w, http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(struct {
		ChallengeResponse string `json:"challengeResponse"`
	}{ChallengeResponse(code, h.token, h.endpoint)})
	h.log.Info("accounthttp: answered eBay's endpoint challenge")
}

// notice is the part of a notice the handler reads.
type notice struct {
	Metadata struct {
		Topic string `json:"topic"`
	} `json:"metadata"`
	Notification struct {
		NotificationID string `json:"notificationId"`
		Data           struct {
			UserID string `json:"userId"`
		} `json:"data"`
	} `json:"notification"`
}

// serveNotice verifies a POSTed notice and deletes its seller.
func (h *deletionHandler) serveNotice(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxNoticeBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.log.Warn("accounthttp: notice refused", "reason", "body over MaxNoticeBytes")
			httpError(w, http.StatusRequestEntityTooLarge)
			return
		}
		httpError(w, http.StatusBadRequest)
		return
	}
	sig, err := parseSignature(r.Header.Get("X-EBAY-SIGNATURE"))
	if err != nil {
		h.log.Warn("accounthttp: notice refused", "err", err)
		httpError(w, http.StatusPreconditionFailed)
		return
	}
	key, err := h.keys.get(r.Context(), sig.kid)
	switch {
	case errors.Is(err, ErrUnknownKey):
		h.log.Warn("accounthttp: notice refused", "err", err)
		httpError(w, http.StatusPreconditionFailed)
		return
	case err != nil:
		h.log.Error("accounthttp: cannot verify notice; eBay will retry", "err", err)
		httpError(w, http.StatusInternalServerError)
		return
	}
	if !verify(key, body, sig.der) {
		h.log.Warn("accounthttp: notice refused", "err", fmt.Errorf("%w: does not verify over the body", ErrSignature), "kid", sig.kid)
		httpError(w, http.StatusPreconditionFailed)
		return
	}
	var n notice
	if err := json.Unmarshal(body, &n); err != nil {
		h.log.Warn("accounthttp: signed notice is not JSON", "err", err)
		httpError(w, http.StatusBadRequest)
		return
	}
	id := n.Notification.NotificationID
	if n.Metadata.Topic != TopicAccountDeletion {
		h.log.Info("accounthttp: ignored a notice of another topic", "topic", n.Metadata.Topic, "notification", id)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	user := n.Notification.Data.UserID
	if user == "" {
		h.log.Warn("accounthttp: deletion notice without userId", "notification", id)
		httpError(w, http.StatusBadRequest)
		return
	}
	if err := h.delete(r.Context(), user); err != nil {
		h.log.Error("accounthttp: Delete failed; eBay will retry", "err", err, "notification", id, "user", userFingerprint(user))
		httpError(w, http.StatusInternalServerError)
		return
	}
	h.log.Debug("accounthttp: account deleted", "notification", id, "user", userFingerprint(user))
	w.WriteHeader(http.StatusNoContent)
}

// systemClock is the Clock used when a config has none.
type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// userFingerprint identifies a deleted user in logs without keeping the
// user id itself: the first 12 hex digits of its SHA-256.
func userFingerprint(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:6])
}
