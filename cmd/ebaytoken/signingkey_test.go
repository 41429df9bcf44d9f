package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ebayauth/ebayauth/ebaysig"
	"github.com/ebayauth/ebayauth/ebaytest"
	"github.com/ebayauth/ebayauth/filestore"
)

func TestSigningKey(t *testing.T) {
	f := newFake(t)
	runCLI(t, "signing-key", "show").want(t, 1)
	r := runCLI(t, "signing-key", "create", "--json").want(t, 0)
	var d signingKeyDoc
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
		t.Fatal(err)
	}
	if d.ID == "" || d.Cipher != "ED25519" || d.Expiry.Before(time.Now().Add(2*365*24*time.Hour)) || d.ExpiresSoon || !strings.HasPrefix(d.Store, "file:") {
		t.Errorf("signing-key create: %+v", d)
	}
	// The key is in the token file, and signs what the fake verifies.
	show := runCLI(t, "signing-key", "show").want(t, 0)
	if !strings.Contains(show.stdout, d.ID) || strings.Contains(show.stdout, "PRIVATE") {
		t.Errorf("signing-key show:\n%s", show)
	}
	raw := readFile(t, f.tokenFile)
	if !strings.Contains(raw, `"secrets"`) {
		t.Errorf("the token file keeps no secret:\n%.300s", raw)
	}
	if fi, err := os.Stat(f.tokenFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	r = runCLI(t, "signing-key", "create", "--cipher", "RSA").want(t, 0)
	if !strings.Contains(r.stdout, "(RSA)") {
		t.Errorf("signing-key create --cipher RSA:\n%s", r)
	}
	for name, args := range map[string][]string{
		"bad cipher":         {"signing-key", "create", "--cipher", "DSA"},
		"unknown action":     {"signing-key", "rotate"},
		"cipher for show":    {"signing-key", "show", "--cipher", "RSA"},
		"import without key": {"signing-key", "import", "--id", "x"},
	} {
		if r := runCLI(t, args...); r.code != 2 {
			t.Errorf("%s: exit %d; want 2\n%s", name, r.code, r)
		}
	}
}

func TestSigningKeyImportAndExpiryWarning(t *testing.T) {
	f := newFake(t)
	id, _, priv := f.IssueSigningKey(ebaytest.CipherEd25519)
	pem, err := ebaysig.MarshalPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, []byte(pem+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, "signing-key", "import", "--id", id, "--private-key-file", keyFile).want(t, 0)
	if !strings.Contains(r.stdout, id) {
		t.Errorf("import:\n%s", r)
	}
	f.secret(pem)
	f.assertNoSecrets(t, r.stdout, r.stderr)
	// A key about to expire: status warns (here by rewriting the stored
	// key's expiry, as if three years had passed).
	runCLI(t, "refresh").want(t, 0)
	k := mustLoadKey(t, f.tokenFile)
	k.Expiry = time.Now().Add(30 * 24 * time.Hour)
	saveKeyFile(t, f.tokenFile, k)
	st := runCLI(t, "status").want(t, 0)
	if !strings.Contains(st.stdout, "digital-signature key "+id+" expires in") || !strings.Contains(st.stdout, "signing-key create") {
		t.Errorf("status with a key expiring in 30 days:\n%s", st)
	}
	f.assertNoSecrets(t, st.stdout, st.stderr)
}

func mustLoadKey(t *testing.T, tokenFile string) ebaysig.Key {
	t.Helper()
	s := openFileStore(t, tokenFile)
	k, err := ebaysig.LoadKey(t.Context(), s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func saveKeyFile(t *testing.T, tokenFile string, k ebaysig.Key) {
	t.Helper()
	if err := ebaysig.SaveKey(t.Context(), openFileStore(t, tokenFile), k); err != nil {
		t.Fatal(err)
	}
}

func openFileStore(t *testing.T, path string) *filestore.Store {
	t.Helper()
	s, err := filestore.New(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
