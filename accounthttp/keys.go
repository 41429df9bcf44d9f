package accounthttp

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// publicKeyPath is the Notification API's getPublicKey, without the key id.
const publicKeyPath = "/commerce/notification/v1/public_key/"

// keyFetchTimeout bounds one fetch of a public key. The fetch runs apart
// from the request that started it, which others may be waiting on too.
const keyFetchTimeout = 30 * time.Second

// maxKeyResponse bounds the getPublicKey answer read.
const maxKeyResponse = 64 << 10

// keyCache fetches eBay's notification public keys by key id and keeps
// each for ttl. Concurrent misses for one kid share one fetch; a failed
// fetch is not remembered.
type keyCache struct {
	client *http.Client
	base   string // APIURL + publicKeyPath
	ttl    time.Duration
	now    func() time.Time

	group singleflight.Group
	mu    sync.Mutex
	keys  map[string]cachedKey
}

type cachedKey struct {
	key     *ecdsa.PublicKey
	expires time.Time
}

func newKeyCache(client *http.Client, apiURL string, ttl time.Duration, now func() time.Time) *keyCache {
	return &keyCache{client: client, base: apiURL + publicKeyPath, ttl: ttl, now: now, keys: map[string]cachedKey{}}
}

// cached returns the key kid if it is cached and fresh.
func (c *keyCache) cached(kid string) *ecdsa.PublicKey {
	c.mu.Lock()
	defer c.mu.Unlock()
	if k, ok := c.keys[kid]; ok && c.now().Before(k.expires) {
		return k.key
	}
	return nil
}

// get returns the public key kid. ctx bounds only the caller's wait.
func (c *keyCache) get(ctx context.Context, kid string) (*ecdsa.PublicKey, error) {
	if k := c.cached(kid); k != nil {
		return k, nil
	}
	fetchCtx := context.WithoutCancel(ctx)
	ch := c.group.DoChan(kid, func() (any, error) {
		if k := c.cached(kid); k != nil { // a flight that just ended filled it
			return k, nil
		}
		ctx, cancel := context.WithTimeout(fetchCtx, keyFetchTimeout)
		defer cancel()
		k, err := c.fetch(ctx, kid)
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		now := c.now()
		for id, old := range c.keys {
			if !now.Before(old.expires) {
				delete(c.keys, id)
			}
		}
		c.keys[kid] = cachedKey{k, now.Add(c.ttl)}
		return k, nil
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*ecdsa.PublicKey), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// publicKeyResponse is getPublicKey's answer.
type publicKeyResponse struct {
	Key       string `json:"key"`
	Algorithm string `json:"algorithm"`
	Digest    string `json:"digest"`
}

// fetch asks eBay's Notification API for the key kid.
func (c *keyCache) fetch(ctx context.Context, kid string) (*ecdsa.PublicKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+url.PathEscape(kid), nil)
	if err != nil {
		return nil, &KeyError{KID: kid, Err: err}
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, &KeyError{KID: kid, Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxKeyResponse))
	if err != nil {
		return nil, &KeyError{KID: kid, StatusCode: resp.StatusCode, Err: err}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &KeyError{KID: kid, StatusCode: resp.StatusCode, Message: restMessage(body)}
	}
	var pk publicKeyResponse
	if err := json.Unmarshal(body, &pk); err != nil {
		return nil, &KeyError{KID: kid, StatusCode: resp.StatusCode, Err: fmt.Errorf("answer is not JSON: %w", err)}
	}
	if !strings.EqualFold(pk.Algorithm, "ECDSA") || !strings.EqualFold(pk.Digest, "SHA1") {
		return nil, &KeyError{KID: kid, StatusCode: resp.StatusCode,
			Err: fmt.Errorf("key is %s/%s; only ECDSA/SHA1 is supported", pk.Algorithm, pk.Digest)}
	}
	k, err := parsePublicKey(pk.Key)
	if err != nil {
		return nil, &KeyError{KID: kid, StatusCode: resp.StatusCode, Err: err}
	}
	return k, nil
}

// restMessage returns the first message of eBay's REST error envelope in
// body, "" if there is none.
func restMessage(body []byte) string {
	var env struct {
		Errors []struct {
			ErrorID int    `json:"errorId"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &env) != nil || len(env.Errors) == 0 {
		return ""
	}
	return fmt.Sprintf("errorId %d: %s", env.Errors[0].ErrorID, env.Errors[0].Message)
}

// parsePublicKey parses an ECDSA public key as eBay sends it: PEM armour
// around base64 SPKI, usually without line breaks, which encoding/pem does
// not accept.
func parsePublicKey(s string) (*ecdsa.PublicKey, error) {
	var der []byte
	if b, _ := pem.Decode([]byte(s)); b != nil && b.Type == "PUBLIC KEY" {
		der = b.Bytes
	} else {
		b64, ok1 := strings.CutPrefix(strings.TrimSpace(s), "-----BEGIN PUBLIC KEY-----")
		b64, ok2 := strings.CutSuffix(b64, "-----END PUBLIC KEY-----")
		if !ok1 || !ok2 {
			return nil, errors.New("key is not a PEM public key")
		}
		var err error
		if der, err = base64.StdEncoding.DecodeString(strings.Join(strings.Fields(b64), "")); err != nil {
			return nil, fmt.Errorf("key is not base64: %w", err)
		}
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("key: %w", err)
	}
	ek, ok := k.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("key is %T, not ECDSA", k)
	}
	return ek, nil
}
