package ebaysig

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ebayauth/ebayauth"
)

// The hosts of eBay's Key Management API (and of the Finances API).
const (
	ProductionAPIZ = "https://apiz.ebay.com"
	SandboxAPIZ    = "https://apiz.sandbox.ebay.com"
)

// signingKeyPath is the Key Management API's resource, after the host.
const signingKeyPath = "/developer/key_management/v1/signing_key"

// maxResponse bounds the Key Management API answers KeyClient reads.
const maxResponse = 1 << 20

// KeyClient calls eBay's Key Management API, which creates, lists and
// reads the application's signing keys. The API wants an application token
// (client credentials grant, scope ebayauth.ScopeAPI): give KeyClient the
// Client of an ebayauth.Manager configured without a RefreshToken.
//
// A KeyClient is safe for concurrent use.
type KeyClient struct {
	// HTTPClient makes the calls and must add the application token. Nil:
	// http.DefaultClient, which adds none (eBay answers 1002).
	HTTPClient *http.Client
	// BaseURL is the API's host: ProductionAPIZ (zero), SandboxAPIZ, or a
	// fake's URL; no trailing slash.
	BaseURL string
}

// SigningKey is what eBay tells of a signing key: everything but the
// private key, which it returns only once, to createSigningKey.
type SigningKey struct {
	ID     string // signingKeyId
	Cipher Cipher // signingKeyCipher
	// JWE goes in the x-ebay-signature-key header.
	JWE string
	// PublicKey is standard base64 of the SPKI DER public key.
	PublicKey string
	// Created and Expiry are eBay's creationTime and expirationTime, to the
	// second; keys expire three years after creation.
	Created, Expiry time.Time
}

// Key returns the Key that signs with priv under k, for a private key kept
// since createSigningKey.
func (k SigningKey) Key(priv crypto.Signer) Key {
	return Key{ID: k.ID, JWE: k.JWE, PrivateKey: priv, Expiry: k.Expiry}
}

// signingKeyJSON is a signing key in the Key Management API's JSON.
type signingKeyJSON struct {
	SigningKeyID     string `json:"signingKeyId"`
	SigningKeyCipher Cipher `json:"signingKeyCipher"`
	CreationTime     int64  `json:"creationTime"`
	ExpirationTime   int64  `json:"expirationTime"`
	JWE              string `json:"jwe"`
	PublicKey        string `json:"publicKey"`
	PrivateKey       string `json:"privateKey,omitempty"`
}

func (j *signingKeyJSON) signingKey() SigningKey {
	k := SigningKey{ID: j.SigningKeyID, Cipher: j.SigningKeyCipher, JWE: j.JWE, PublicKey: j.PublicKey}
	if j.CreationTime != 0 {
		k.Created = time.Unix(j.CreationTime, 0).UTC()
	}
	if j.ExpirationTime != 0 {
		k.Expiry = time.Unix(j.ExpirationTime, 0).UTC()
	}
	return k
}

// Create asks eBay for a new key pair of cipher (Ed25519 or RSA) and
// returns it with its private key parsed. eBay does not keep the private
// key: store it (MarshalPrivateKey) before anything else, or the key is
// lost and a new one must be created.
func (c *KeyClient) Create(ctx context.Context, cipher Cipher) (Key, error) {
	const op = "createSigningKey"
	if cipher != Ed25519 && cipher != RSA {
		return Key{}, fmt.Errorf("ebaysig: %s: cipher %q is neither %s nor %s", op, cipher, Ed25519, RSA)
	}
	body, err := json.Marshal(struct {
		Cipher Cipher `json:"signingKeyCipher"`
	}{cipher})
	if err != nil {
		return Key{}, fmt.Errorf("ebaysig: %s: %w", op, err)
	}
	var j signingKeyJSON
	if err := c.do(ctx, op, http.MethodPost, signingKeyPath, body, &j); err != nil {
		return Key{}, err
	}
	if j.PrivateKey == "" || j.JWE == "" || j.SigningKeyID == "" {
		return Key{}, fmt.Errorf("ebaysig: %s: eBay's answer lacks signingKeyId, jwe or privateKey", op)
	}
	priv, err := ParsePrivateKey(j.PrivateKey)
	if err != nil {
		return Key{}, fmt.Errorf("ebaysig: %s: eBay's privateKey: %w", op, err)
	}
	return j.signingKey().Key(priv), nil
}

// List returns the application's signing keys, without private keys.
func (c *KeyClient) List(ctx context.Context) ([]SigningKey, error) {
	var resp struct {
		SigningKeys []signingKeyJSON `json:"signingKeys"`
	}
	if err := c.do(ctx, "getSigningKeys", http.MethodGet, signingKeyPath, nil, &resp); err != nil {
		return nil, err
	}
	keys := make([]SigningKey, len(resp.SigningKeys))
	for i := range resp.SigningKeys {
		keys[i] = resp.SigningKeys[i].signingKey()
	}
	return keys, nil
}

// Get returns the signing key id, without its private key.
func (c *KeyClient) Get(ctx context.Context, id string) (SigningKey, error) {
	const op = "getSigningKey"
	if id == "" {
		return SigningKey{}, fmt.Errorf("ebaysig: %s: empty id", op)
	}
	var j signingKeyJSON
	if err := c.do(ctx, op, http.MethodGet, signingKeyPath+"/"+url.PathEscape(id), nil, &j); err != nil {
		return SigningKey{}, err
	}
	return j.signingKey(), nil
}

// do calls the API and decodes a 2xx JSON answer into v. Other answers
// become an *APIError; nothing of the body but the error envelope is kept,
// so no private key can end up in an error.
func (c *KeyClient) do(ctx context.Context, op, method, path string, body []byte, v any) error {
	base := c.BaseURL
	if base == "" {
		base = ProductionAPIZ
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(base, "/")+path, rd)
	if err != nil {
		return fmt.Errorf("ebaysig: %s: %w", op, err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("ebaysig: %s: %w", op, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("ebaysig: %s: reading the answer: %w", op, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := &APIError{Op: op, StatusCode: resp.StatusCode}
		var env struct {
			Errors []ebayauth.APIErrorDetail `json:"errors"`
		}
		if json.Unmarshal(data, &env) == nil {
			e.Errors = env.Errors
		}
		return e
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" && mt != "" {
		return fmt.Errorf("ebaysig: %s: HTTP %d with Content-Type %q, not JSON", op, resp.StatusCode, mt)
	}
	if err := json.Unmarshal(data, v); err != nil {
		// json's syntax and type errors quote no input.
		return fmt.Errorf("ebaysig: %s: decoding the answer: %w", op, err)
	}
	return nil
}
