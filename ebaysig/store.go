package ebaysig

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ebayauth/ebayauth"
)

// KeyName is the name under which SaveKey and LoadKey keep the app's
// signing key in an ebayauth.SecretStore.
const KeyName = "ebaysig/signing-key"

// storedKey is a Key as SaveKey keeps it.
type storedKey struct {
	ID         string    `json:"id"`
	JWE        string    `json:"jwe"`
	PrivateKey string    `json:"private_key"` // base64 PKCS#8
	Expiry     time.Time `json:"expiry,omitzero"`
}

// SaveKey keeps k in s under KeyName: sealed where s seals (redisstore
// with a seal key, pgstore), 0600 in filestore. eBay returns a private key
// only when it creates it, and keeps no copy: this is where it lives.
func SaveKey(ctx context.Context, s ebayauth.SecretStore, k Key) error {
	if k.ID == "" || k.JWE == "" || k.PrivateKey == nil {
		return errors.New("ebaysig: SaveKey: the key needs an ID, a JWE and a private key")
	}
	priv, err := MarshalPrivateKey(k.PrivateKey)
	if err != nil {
		return fmt.Errorf("ebaysig: SaveKey: %w", err)
	}
	b, err := json.Marshal(storedKey{k.ID, k.JWE, priv, k.Expiry})
	if err != nil {
		return fmt.Errorf("ebaysig: SaveKey: %w", err)
	}
	if err := s.SaveSecret(ctx, KeyName, b); err != nil {
		return fmt.Errorf("ebaysig: SaveKey: %w", err)
	}
	return nil
}

// LoadKey returns the key SaveKey kept in s, or an error matching
// ebayauth.ErrNotFound if there is none.
func LoadKey(ctx context.Context, s ebayauth.SecretStore) (Key, error) {
	b, err := s.LoadSecret(ctx, KeyName)
	if err != nil {
		return Key{}, fmt.Errorf("ebaysig: LoadKey: %w", err)
	}
	var sk storedKey
	if err := json.Unmarshal(b, &sk); err != nil || sk.ID == "" || sk.PrivateKey == "" {
		return Key{}, errors.New("ebaysig: LoadKey: the stored value is not a signing key")
	}
	priv, err := ParsePrivateKey(sk.PrivateKey)
	if err != nil {
		return Key{}, fmt.Errorf("ebaysig: LoadKey: %w", err)
	}
	return Key{ID: sk.ID, JWE: sk.JWE, PrivateKey: priv, Expiry: sk.Expiry}, nil
}

// ExpiryWarning is how long before a signing key expires ExpiresSoon
// turns true: eBay's keys live three years, and a new one must be created
// (and the old one's calls moved over) before then.
const ExpiryWarning = 90 * 24 * time.Hour

// ExpiresSoon reports whether k expires within ExpiryWarning of now (or
// has expired).
func (k Key) ExpiresSoon(now time.Time) bool {
	return !k.Expiry.IsZero() && k.Expiry.Sub(now) < ExpiryWarning
}
