package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/ebayauth/ebayauth"
)

// testSecrets is the SecretStore part of the suite.
func testSecrets(t *testing.T, s ebayauth.SecretStore) {
	ctx := context.Background()
	name := "signing-key-" + Key(t)[:8]
	if v, err := s.LoadSecret(ctx, name); !errors.Is(err, ebayauth.ErrNotFound) {
		t.Fatalf("LoadSecret of a missing name = %q, %v; want ErrNotFound", v, err)
	}
	first := make([]byte, 300)
	_, _ = rand.Read(first) // binary, NULs and all
	if err := s.SaveSecret(ctx, name, first); err != nil {
		t.Fatalf("SaveSecret: %v", err)
	}
	got, err := s.LoadSecret(ctx, name)
	if err != nil || !bytes.Equal(got, first) {
		t.Fatalf("LoadSecret = %d bytes, %v; want the %d saved", len(got), err, len(first))
	}
	got[0] ^= 0xff // the store keeps its own copy
	second := []byte("-----BEGIN PRIVATE KEY-----\nreplaced\n-----END PRIVATE KEY-----\n")
	if err := s.SaveSecret(ctx, name, second); err != nil {
		t.Fatalf("SaveSecret again: %v", err)
	}
	if got, err := s.LoadSecret(ctx, name); err != nil || !bytes.Equal(got, second) {
		t.Errorf("after replacing: %q, %v; want %q", got, err, second)
	}
	if err := s.SaveSecret(ctx, "", second); err == nil {
		t.Error("SaveSecret with an empty name = nil; want an error")
	}
}
