package pgstore

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

// The sealed form of a value:
//
//	sealFormat (1 byte) | key id (keyIDLen bytes) | nonce (12 bytes) | AES-GCM ciphertext and tag
const (
	sealFormat = 1
	keyIDLen   = 4
	headerLen  = 1 + keyIDLen
	nonceLen   = 12
	tagLen     = 16
)

// Tables whose values are sealed, as bound into the seal.
const (
	tokensTable   = "tokens"
	accountsTable = "accounts"
	secretsTable  = "secrets"
)

// keyID names key without revealing it: the first bytes of a SHA-256 of
// the key, apart from any other use of the key.
func keyID(key []byte) [keyIDLen]byte {
	h := sha256.New()
	h.Write([]byte("ebayauth/pgstore seal key id\x00"))
	h.Write(key)
	var id [keyIDLen]byte
	copy(id[:], h.Sum(nil))
	return id
}

type sealKey struct {
	id   [keyIDLen]byte
	aead cipher.AEAD
}

// sealer seals with its first key and opens with any.
type sealer struct {
	keys []sealKey // keys[0] is the current key
}

func newSealer(current []byte, old [][]byte) (*sealer, error) {
	s := &sealer{}
	for _, k := range append([][]byte{current}, old...) {
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, fmt.Errorf("seal key: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("seal key: %w", err)
		}
		s.keys = append(s.keys, sealKey{keyID(k), aead})
	}
	return s, nil
}

// currentID is the id of the key that seals.
func (s *sealer) currentID() [keyIDLen]byte { return s.keys[0].id }

// additionalData binds a seal to its header and to the row it is for: the
// table and the row's key. The schema is not bound, so that a dump
// restores into another schema.
func additionalData(header []byte, table, key string) []byte {
	ad := make([]byte, 0, len(header)+len("ebayauth/pgstore\x00")+len(table)+1+len(key))
	ad = append(ad, header...)
	ad = append(ad, "ebayauth/pgstore\x00"...)
	ad = append(ad, table...)
	ad = append(ad, 0)
	return append(ad, key...)
}

// seal seals plain for the row key of table with the current key.
func (s *sealer) seal(table, key string, plain []byte) []byte {
	k := s.keys[0]
	out := make([]byte, headerLen+nonceLen, headerLen+nonceLen+len(plain)+tagLen)
	out[0] = sealFormat
	copy(out[1:headerLen], k.id[:])
	nonce := out[headerLen : headerLen+nonceLen]
	_, _ = rand.Read(nonce) // never fails
	return k.aead.Seal(out, nonce, plain, additionalData(out[:headerLen], table, key))
}

// open opens a value sealed for the row key of table with any of the keys.
// Its errors say what is wrong without quoting the value.
func (s *sealer) open(table, key string, sealed []byte) ([]byte, error) {
	if len(sealed) < headerLen+nonceLen+tagLen {
		return nil, fmt.Errorf("the sealed value is %d bytes, too short", len(sealed))
	}
	if sealed[0] != sealFormat {
		return nil, fmt.Errorf("the sealed value has format %d; this version knows %d", sealed[0], sealFormat)
	}
	id := sealed[1:headerLen]
	nonce := sealed[headerLen : headerLen+nonceLen]
	ad := additionalData(sealed[:headerLen], table, key)
	known := false
	for _, k := range s.keys {
		if string(k.id[:]) != string(id) {
			continue
		}
		known = true
		plain, err := k.aead.Open(nil, nonce, sealed[headerLen+nonceLen:], ad)
		if err == nil {
			return plain, nil
		}
	}
	if !known {
		return nil, fmt.Errorf("sealed with a key this store does not have (key id %s)", hex.EncodeToString(id))
	}
	return nil, errors.New("the sealed value does not open with its key (key id " + hex.EncodeToString(id) +
		"): it is corrupt, or was moved from another row")
}
