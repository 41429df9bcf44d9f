package ebaysig

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// Key is an eBay signing key: what the Key Management API's createSigningKey
// returns, the private key parsed.
//
// A Key formats itself, by value and by pointer and with every fmt verb, as
// its id, cipher, JWE fingerprint and expiry, and logs the same through
// slog; the private key never appears. Its JSON form leaves the private key
// out too: keep that with MarshalPrivateKey.
type Key struct {
	// ID is eBay's signingKeyId.
	ID string
	// JWE is the public key as eBay encrypted it for itself, sent in the
	// x-ebay-signature-key header. It is opaque: only eBay can read it.
	JWE string
	// PrivateKey signs: an ed25519.PrivateKey, an *rsa.PrivateKey (signed
	// with RSASSA-PKCS1-v1_5 and SHA-256), or any crypto.Signer whose Public
	// key is one of those, such as a key held in a KMS.
	PrivateKey crypto.Signer
	// Expiry is when eBay stops accepting the key, three years after its
	// creation. Zero: unknown. Sign does not check it.
	Expiry time.Time
}

// Cipher is a signing-key algorithm as the Key Management API names it.
type Cipher string

// The ciphers eBay accepts.
const (
	// Ed25519 is the cipher eBay recommends: short keys and headers.
	Ed25519 Cipher = "ED25519"
	// RSA keys sign with RSASSA-PKCS1-v1_5 and SHA-256.
	RSA Cipher = "RSA"
)

// cipherOf names the algorithm of priv, "" if eBay does not accept it.
func cipherOf(priv crypto.Signer) Cipher {
	switch k := priv.(type) {
	case nil:
		return ""
	case ed25519.PrivateKey:
		return Ed25519
	case *rsa.PrivateKey:
		return RSA
	default:
		switch k.Public().(type) {
		case ed25519.PublicKey:
			return Ed25519
		case *rsa.PublicKey:
			return RSA
		}
	}
	return ""
}

// String describes k without its private key.
func (k Key) String() string {
	var b strings.Builder
	b.WriteString("ebaysig.Key{id=")
	b.WriteString(strconv.Quote(k.ID))
	b.WriteString(" cipher=")
	switch c := cipherOf(k.PrivateKey); {
	case k.PrivateKey == nil:
		b.WriteString("none")
	case c == "":
		b.WriteString("unsupported")
	default:
		b.WriteString(string(c))
	}
	b.WriteString(" jwe=")
	if k.JWE == "" {
		b.WriteString("none")
	} else {
		b.WriteString(fingerprint(k.JWE))
	}
	b.WriteString(" expiry=")
	if k.Expiry.IsZero() {
		b.WriteString("unknown")
	} else {
		b.WriteString(k.Expiry.UTC().Format(time.RFC3339))
	}
	if k.PrivateKey != nil {
		b.WriteString(" private=[redacted]")
	}
	b.WriteString("}")
	return b.String()
}

// GoString is String, so that %#v does not print the private key either.
func (k Key) GoString() string { return k.String() }

// Format implements fmt.Formatter: every verb prints String (%q quoted), so
// that no verb, %x and %d included, reaches the private key's bytes.
func (k Key) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		io.WriteString(f, strconv.Quote(k.String()))
		return
	}
	io.WriteString(f, k.String())
}

// LogValue implements slog.LogValuer: a logged Key shows its id, cipher,
// JWE fingerprint and expiry.
func (k Key) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", k.ID),
		slog.String("cipher", string(cipherOf(k.PrivateKey))),
		slog.String("jwe", fingerprint(k.JWE)),
		slog.Time("expiry", k.Expiry),
	)
}

// keyJSON is Key's JSON form: everything but the private key.
type keyJSON struct {
	ID     string    `json:"signingKeyId,omitempty"`
	Cipher Cipher    `json:"signingKeyCipher,omitempty"`
	JWE    string    `json:"jwe,omitempty"`
	Expiry time.Time `json:"expiry,omitzero"`
}

// MarshalJSON leaves the private key out, so that a Key marshalled by
// accident (into a debug endpoint, a log line) does not leak it.
func (k Key) MarshalJSON() ([]byte, error) {
	return json.Marshal(keyJSON{k.ID, cipherOf(k.PrivateKey), k.JWE, k.Expiry})
}

// ParsePrivateKey parses a private key as eBay's createSigningKey returns
// it, standard base64 of PKCS#8 DER without PEM armour, or PEM ("PRIVATE
// KEY", or "RSA PRIVATE KEY" for PKCS#1). It returns an ed25519.PrivateKey
// or an *rsa.PrivateKey; other algorithms are ErrUnsupportedKey. Its errors
// never quote s.
func ParsePrivateKey(s string) (crypto.Signer, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("ebaysig: ParsePrivateKey: empty key")
	}
	var der []byte
	pkcs1 := false
	if strings.HasPrefix(s, "-----BEGIN") {
		block, _ := pem.Decode([]byte(s))
		if block == nil {
			return nil, errors.New("ebaysig: ParsePrivateKey: malformed PEM")
		}
		switch block.Type {
		case "PRIVATE KEY":
		case "RSA PRIVATE KEY":
			pkcs1 = true
		default:
			return nil, fmt.Errorf("ebaysig: ParsePrivateKey: PEM block %q is not an unencrypted private key", block.Type)
		}
		der = block.Bytes
	} else {
		var err error
		der, err = base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
		if err != nil {
			return nil, fmt.Errorf("ebaysig: ParsePrivateKey: neither PEM nor base64: %w", err)
		}
	}
	var key any
	var err error
	if pkcs1 {
		key, err = x509.ParsePKCS1PrivateKey(der)
	} else {
		key, err = x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			if k, err1 := x509.ParsePKCS1PrivateKey(der); err1 == nil {
				key, err = k, nil
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("ebaysig: ParsePrivateKey: %w", err)
	}
	switch k := key.(type) {
	case ed25519.PrivateKey:
		return k, nil
	case *rsa.PrivateKey:
		return k, nil
	}
	return nil, fmt.Errorf("ebaysig: ParsePrivateKey: %T: %w", key, ErrUnsupportedKey)
}

// MarshalPrivateKey returns priv in the form eBay's createSigningKey
// returns it, standard base64 of PKCS#8 DER, which ParsePrivateKey reads
// back. The result is a secret: store it as one.
func MarshalPrivateKey(priv crypto.Signer) (string, error) {
	switch priv.(type) {
	case ed25519.PrivateKey, *rsa.PrivateKey:
	default:
		return "", fmt.Errorf("ebaysig: MarshalPrivateKey: %T: %w", priv, ErrUnsupportedKey)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return "", fmt.Errorf("ebaysig: MarshalPrivateKey: %w", err)
	}
	return base64.StdEncoding.EncodeToString(der), nil
}

// fingerprint shows a value that must not be printed (a JWE) as the first
// 12 hex digits of its SHA-256, as ebayauth shows tokens.
func fingerprint(s string) string {
	if s == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:6])
}

// Cipher is the cipher of k's private key: Ed25519, RSA, or "" for none
// or one eBay does not issue.
func (k Key) Cipher() Cipher { return cipherOf(k.PrivateKey) }

// Fingerprint identifies k without revealing anything: the first 12 hex
// digits of the SHA-256 of its JWE, as ebayauth shows tokens.
func (k Key) Fingerprint() string { return fingerprint(k.JWE) }
