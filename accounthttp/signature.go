package accounthttp

import (
	"crypto/ecdsa"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
)

// maxSignatureHeader bounds the X-EBAY-SIGNATURE header parsed; eBay's are
// about 250 bytes.
const maxSignatureHeader = 4 << 10

// signature is a parsed X-EBAY-SIGNATURE header.
type signature struct {
	kid string
	der []byte // the ASN.1 DER ECDSA signature
}

// parseSignature decodes X-EBAY-SIGNATURE: base64 of
// {"alg":"ecdsa","kid":…,"signature":<base64 DER>,"digest":"SHA1"}. Its
// errors match ErrSignature.
func parseSignature(h string) (signature, error) {
	bad := func(why string) (signature, error) { return signature{}, fmt.Errorf("%w: %s", ErrSignature, why) }
	h = strings.TrimSpace(h)
	switch {
	case h == "":
		return bad("no X-EBAY-SIGNATURE header")
	case len(h) > maxSignatureHeader:
		return bad("X-EBAY-SIGNATURE header too long")
	}
	raw, err := decodeBase64(h)
	if err != nil {
		return bad("X-EBAY-SIGNATURE is not base64")
	}
	var f struct {
		Alg       string `json:"alg"`
		KID       string `json:"kid"`
		Signature string `json:"signature"`
		Digest    string `json:"digest"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return bad("X-EBAY-SIGNATURE is not JSON")
	}
	switch {
	case !strings.EqualFold(f.Alg, "ecdsa"):
		return bad(fmt.Sprintf("alg %q, want ecdsa", f.Alg))
	case !strings.EqualFold(f.Digest, "SHA1"):
		return bad(fmt.Sprintf("digest %q, want SHA1", f.Digest))
	case !validKID(f.KID):
		return bad("kid missing or malformed")
	}
	der, err := decodeBase64(f.Signature)
	if err != nil || len(der) == 0 {
		return bad("signature is not base64")
	}
	return signature{kid: f.KID, der: der}, nil
}

// decodeBase64 decodes standard base64, padded or not.
func decodeBase64(s string) ([]byte, error) {
	return base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
}

// validKID reports whether kid can be a key id: eBay's are UUIDs. Anything
// stranger (say "..") is refused before it goes into a URL path.
func validKID(kid string) bool {
	if kid == "" || len(kid) > 128 {
		return false
	}
	for _, c := range kid {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}

// verify reports whether der is key's SHA1withECDSA signature over body,
// the bytes exactly as received.
func verify(key *ecdsa.PublicKey, body, der []byte) bool {
	digest := sha1.Sum(body)
	return ecdsa.VerifyASN1(key, digest[:], der)
}
