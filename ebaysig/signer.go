package ebaysig

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ebayauth/ebayauth"
)

// Signer signs requests with Key as eBay's verifier expects.
//
// The zero Clock means the system clock. A Signer is safe for concurrent
// use; do not change its fields while it is in use.
type Signer struct {
	// Key signs. Its PrivateKey and JWE are required.
	Key Key
	// Clock gives the created parameter. Nil: the system clock. eBay checks
	// created against its own clock, within a window it does not document.
	Clock ebayauth.Clock
}

// The headers Sign sets, in canonical form.
const (
	headerContentDigest  = "Content-Digest"
	headerSignatureKey   = "X-Ebay-Signature-Key"
	headerSignatureInput = "Signature-Input"
	headerSignature      = "Signature"
)

// The covered components and parameters, as Signature-Input carries them
// after "sig1=" and the signature base after "@signature-params": the
// component list eBay documents and created, which is appended.
const (
	paramsWithBody = `("content-digest" "x-ebay-signature-key" "@method" "@path" "@authority");created=`
	paramsNoBody   = `("x-ebay-signature-key" "@method" "@path" "@authority");created=`
)

// Sign adds Content-Digest (when the request has a body),
// x-ebay-signature-key, Signature-Input and Signature to req, replacing any
// it had, and removes a stale Content-Digest from a request without a body.
// created is the Clock's time now.
//
// The body stays readable. If req has GetBody (http.NewRequest sets it for
// in-memory bodies), Sign hashes a copy from GetBody and leaves Body alone;
// otherwise it reads Body into memory, closes it, and replaces Body and
// GetBody with the copy and sets ContentLength. A body that turns out empty
// counts as none.
//
// Sign modifies req: a RoundTripper must sign a clone (Transport does).
func (s *Signer) Sign(req *http.Request) error {
	if s == nil || s.Key.PrivateKey == nil || s.Key.JWE == "" {
		return ErrNoKey
	}
	digest, err := contentDigest(req)
	if err != nil {
		return fmt.Errorf("ebaysig: reading the request body: %w", err)
	}
	params := paramsNoBody
	if digest != "" {
		params = paramsWithBody
	}
	var createdBuf [20]byte
	created := strconv.AppendInt(createdBuf[:0], s.now().Unix(), 10)

	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	path := req.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	jwe := s.Key.JWE
	auth := authority(req)

	base := make([]byte, 0, 128+len(digest)+len(jwe)+len(method)+len(path)+len(auth)+len(params))
	if digest != "" {
		base = append(base, `"content-digest": `...)
		base = append(base, digest...)
		base = append(base, '\n')
	}
	base = append(base, `"x-ebay-signature-key": `...)
	base = append(base, jwe...)
	base = append(base, "\n\"@method\": "...)
	base = append(base, method...)
	base = append(base, "\n\"@path\": "...)
	base = append(base, path...)
	base = append(base, "\n\"@authority\": "...)
	base = append(base, auth...)
	base = append(base, "\n\"@signature-params\": "...)
	paramsAt := len(base)
	base = append(base, params...)
	base = append(base, created...)

	sig, err := sign(s.Key.PrivateKey, base)
	if err != nil {
		return err
	}

	input := make([]byte, 0, len("sig1=")+len(base)-paramsAt)
	input = append(input, "sig1="...)
	input = append(input, base[paramsAt:]...)
	value := make([]byte, 0, len("sig1=::")+base64.StdEncoding.EncodedLen(len(sig)))
	value = append(value, "sig1=:"...)
	value = base64.StdEncoding.AppendEncode(value, sig)
	value = append(value, ':')

	h := req.Header
	if h == nil {
		h = make(http.Header, 4)
		req.Header = h
	}
	if digest != "" {
		h[headerContentDigest] = []string{digest}
	} else {
		h.Del(headerContentDigest)
	}
	h[headerSignatureKey] = []string{jwe}
	h[headerSignatureInput] = []string{string(input)}
	h[headerSignature] = []string{string(value)}
	return nil
}

func (s *Signer) now() time.Time {
	if s.Clock != nil {
		return s.Clock.Now()
	}
	return time.Now()
}

// contentDigest returns the Content-Digest of req's body, "" if it has
// none, keeping the body readable as Sign documents.
func contentDigest(req *http.Request) (string, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return "", nil
	}
	h := sha256.New()
	if req.GetBody != nil {
		rc, err := req.GetBody()
		if err != nil {
			return "", err
		}
		n, err := io.Copy(h, rc)
		rc.Close()
		if err != nil {
			return "", err
		}
		if n == 0 {
			return "", nil
		}
	} else {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			req.Body = io.NopCloser(errReader{err})
			return "", err
		}
		if len(b) == 0 {
			req.Body, req.ContentLength = http.NoBody, 0
			req.GetBody = func() (io.ReadCloser, error) { return http.NoBody, nil }
			return "", nil
		}
		req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
		h.Write(b)
	}
	var sum [sha256.Size]byte
	d := make([]byte, 0, len("sha-256=::")+base64.StdEncoding.EncodedLen(sha256.Size))
	d = append(d, "sha-256=:"...)
	d = base64.StdEncoding.AppendEncode(d, h.Sum(sum[:0]))
	d = append(d, ':')
	return string(d), nil
}

// errReader fails every Read with err: the body of a request whose body
// could not be read.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// authority is the @authority component: the request's host in lower case,
// with its port unless it is the scheme's default.
func authority(req *http.Request) string {
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	host = strings.ToLower(host)
	switch {
	case req.URL.Scheme == "https" && strings.HasSuffix(host, ":443"):
		host = strings.TrimSuffix(host, ":443")
	case req.URL.Scheme == "http" && strings.HasSuffix(host, ":80"):
		host = strings.TrimSuffix(host, ":80")
	}
	return host
}

// sign signs msg with priv: Ed25519 over msg itself, RSA as
// RSASSA-PKCS1-v1_5 over its SHA-256.
func sign(priv crypto.Signer, msg []byte) ([]byte, error) {
	switch k := priv.(type) {
	case ed25519.PrivateKey:
		if len(k) != ed25519.PrivateKeySize {
			return nil, errors.New("ebaysig: signing: malformed Ed25519 private key")
		}
		return ed25519.Sign(k, msg), nil
	case *rsa.PrivateKey:
		sum := sha256.Sum256(msg)
		sig, err := rsa.SignPKCS1v15(nil, k, crypto.SHA256, sum[:])
		if err != nil {
			return nil, fmt.Errorf("ebaysig: signing: %w", err)
		}
		return sig, nil
	}
	var sig []byte
	var err error
	switch priv.Public().(type) {
	case ed25519.PublicKey:
		sig, err = priv.Sign(rand.Reader, msg, crypto.Hash(0))
	case *rsa.PublicKey:
		sum := sha256.Sum256(msg)
		sig, err = priv.Sign(rand.Reader, sum[:], crypto.SHA256)
	default:
		return nil, fmt.Errorf("ebaysig: signing: %T: %w", priv, ErrUnsupportedKey)
	}
	if err != nil {
		return nil, fmt.Errorf("ebaysig: signing: %w", err)
	}
	return sig, nil
}

// String describes s: its Key, redacted, and the type of its Clock.
func (s Signer) String() string {
	clock := "system"
	if s.Clock != nil {
		clock = fmt.Sprintf("%T", s.Clock)
	}
	return "ebaysig.Signer{Key:" + s.Key.String() + " Clock:" + clock + "}"
}

// GoString is String.
func (s Signer) GoString() string { return s.String() }

// Format implements fmt.Formatter as Key's does, so that a Signer inside
// another value never exposes the private key, even under a verb fmt
// reports as bad (which bypasses the Formatters of nested values).
func (s Signer) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		io.WriteString(f, strconv.Quote(s.String()))
		return
	}
	io.WriteString(f, s.String())
}

// LogValue implements slog.LogValuer with the Key's attributes.
func (s Signer) LogValue() slog.Value { return s.Key.LogValue() }
