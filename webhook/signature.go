package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The headers of a signed request.
const (
	// TimestampHeader carries the Unix time, in seconds, when the try was
	// sent.
	TimestampHeader = "X-Ebayauth-Timestamp"
	// SignatureHeader carries "v1=" and the hex HMAC-SHA256, under the
	// secret, of the timestamp, a period, and the body.
	SignatureHeader = "X-Ebayauth-Signature"
)

// signatureScheme prefixes a signature and names how it is made, so that
// another way can come without a receiver mistaking one for the other.
const signatureScheme = "v1="

// DefaultMaxAge is how far Verify lets a request's timestamp be from the
// receiver's clock, before or after.
const DefaultMaxAge = 5 * time.Minute

// Errors of Verify, for errors.Is.
var (
	// ErrUnsigned: the request lacks the timestamp or the signature.
	ErrUnsigned = errors.New("webhook: request not signed")
	// ErrBadSignature: the signature does not sign the timestamp and body
	// under the secret (either was changed, the secret differs, or the
	// signature is not of the "v1=" scheme).
	ErrBadSignature = errors.New("webhook: bad signature")
	// ErrStale: the request is signed, but its timestamp is too far from
	// the receiver's clock: most likely a request replayed.
	ErrStale = errors.New("webhook: stale timestamp")
)

// sign returns the SignatureHeader value for a try sent at timestamp.
func sign(secret []byte, timestamp string, body []byte) string {
	return signatureScheme + hex.EncodeToString(mac(secret, timestamp, body))
}

func mac(secret []byte, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks a request a Notifier sent, for receivers: header is the
// request's header and body its body, read whole and untouched. It
// returns nil if the signature signs the timestamp and body under secret
// and the timestamp is within DefaultMaxAge of now; otherwise an error
// that wraps ErrUnsigned, ErrBadSignature or ErrStale. It is
// VerifyAt(secret, header, body, time.Now(), DefaultMaxAge).
func Verify(secret []byte, header http.Header, body []byte) error {
	return VerifyAt(secret, header, body, time.Now(), DefaultMaxAge)
}

// VerifyAt is Verify with the receiver's clock reading now and a
// tolerance of maxAge either way (DefaultMaxAge if maxAge is not
// positive). The signature is checked first: a request whose timestamp
// was changed fails with ErrBadSignature, one replayed too late with
// ErrStale.
func VerifyAt(secret []byte, header http.Header, body []byte, now time.Time, maxAge time.Duration) error {
	if maxAge <= 0 {
		maxAge = DefaultMaxAge
	}
	ts, sig := header.Get(TimestampHeader), header.Get(SignatureHeader)
	switch {
	case ts == "":
		return fmt.Errorf("%w: no %s header", ErrUnsigned, TimestampHeader)
	case sig == "":
		return fmt.Errorf("%w: no %s header", ErrUnsigned, SignatureHeader)
	case len(secret) == 0:
		return fmt.Errorf("%w: no secret to check it with", ErrBadSignature)
	}
	digits, ok := strings.CutPrefix(sig, signatureScheme)
	if !ok {
		return fmt.Errorf("%w: not a %q signature", ErrBadSignature, signatureScheme)
	}
	got, err := hex.DecodeString(digits)
	if err != nil || !hmac.Equal(got, mac(secret, ts, body)) {
		return ErrBadSignature
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		// Signed, so sent by a Notifier that has the secret: no such
		// Notifier sends this.
		return fmt.Errorf("%w: the timestamp is not a number of seconds", ErrBadSignature)
	}
	switch age := now.Sub(time.Unix(sec, 0)); {
	case age > maxAge:
		return fmt.Errorf("%w: sent %v ago, more than %v", ErrStale, age.Round(time.Second), maxAge)
	case age < -maxAge:
		return fmt.Errorf("%w: dated %v ahead, more than %v", ErrStale, -age.Round(time.Second), maxAge)
	}
	return nil
}
