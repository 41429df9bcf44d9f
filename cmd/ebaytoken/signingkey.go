package main

import (
	"bufio"
	"context"
	"crypto"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/ebaysig"
)

// signingKeyOptions are signing-key's own flags.
type signingKeyOptions struct {
	cipher  string
	id      string
	keyFile string
}

func signingKeyFlags(fs *flag.FlagSet, c *call) {
	o := &c.signingKey
	fs.StringVar(&o.cipher, "cipher", "ED25519", "`cipher` of a new key: ED25519 (recommended) or RSA (create)")
	fs.StringVar(&o.id, "id", "", "eBay's signingKeyId of the key to import (import)")
	fs.StringVar(&o.keyFile, "private-key-file", "", "`file` holding the private key to import, base64 PKCS#8 or PEM; - reads standard input (import)")
}

// signingKeyDoc is what signing-key prints of a key: never its private key.
type signingKeyDoc struct {
	ID          string    `json:"id"`
	Cipher      string    `json:"cipher"`
	JWE         string    `json:"jwe_fingerprint"`
	Expiry      time.Time `json:"expiry,omitzero"`
	ExpiresSoon bool      `json:"expires_soon"`
	Store       string    `json:"store"`
}

// cmdSigningKey creates, shows or imports the signing key eBay's digital
// signatures need (EU and UK sellers), kept in the token store beside the
// tokens, sealed as they are.
func cmdSigningKey(ctx context.Context, c *call) error {
	c.printNotes()
	action := c.args[0]
	o := c.signingKey
	switch {
	case action != "create" && action != "show" && action != "import":
		return usagef("unknown action %q; want create, show or import", action)
	case action != "create" && c.common.given("cipher"):
		return usagef("--cipher: only for signing-key create")
	case action != "import" && (o.id != "" || o.keyFile != ""):
		return usagef("--id and --private-key-file: only for signing-key import")
	case action == "import" && (o.id == "" || o.keyFile == ""):
		return usagef("signing-key import needs --id ID and --private-key-file FILE (or - for standard input): a private key never goes on the command line")
	}
	store, closeStore, err := openStore(c.s, c.log)
	if err != nil {
		return err
	}
	defer closeStore()
	secrets, ok := store.(ebayauth.SecretStore)
	if !ok {
		return usagef("the store %s cannot keep a signing key", storeLabel(store))
	}
	if action == "show" {
		k, err := ebaysig.LoadKey(ctx, secrets)
		if errors.Is(err, ebayauth.ErrNotFound) {
			return &exitError{code: exitFailure, msg: "no signing key in " + storeLabel(store) + ": run ebaytoken signing-key create"}
		}
		if err != nil {
			return &exitError{code: exitFailure, msg: err.Error()}
		}
		return c.printKey(k, store)
	}
	if err := c.s.needCredentials(); err != nil {
		return err
	}
	app, err := c.appManager(store)
	if err != nil {
		return err
	}
	defer app.Close()
	kc := &ebaysig.KeyClient{HTTPClient: app.Client(), BaseURL: c.s.apizURL()}
	var k ebaysig.Key
	switch action {
	case "create":
		cipher := ebaysig.Cipher(strings.ToUpper(o.cipher))
		if cipher != ebaysig.Ed25519 && cipher != ebaysig.RSA {
			return usagef("--cipher: %q is not ED25519 or RSA", o.cipher)
		}
		if k, err = kc.Create(ctx, cipher); err != nil {
			return &exitError{code: exitFailure, msg: "creating the key: " + err.Error()}
		}
	case "import":
		priv, err := c.readPrivateKey(o.keyFile)
		if err != nil {
			return err
		}
		sk, err := kc.Get(ctx, o.id)
		if err != nil {
			return &exitError{code: exitFailure, msg: "reading key " + o.id + " from eBay: " + err.Error()}
		}
		k = sk.Key(priv)
	}
	if err := ebaysig.SaveKey(ctx, secrets, k); err != nil {
		return &exitError{code: exitFailure, msg: err.Error() +
			"; the key was created at eBay, which keeps no copy of its private key: fix the store and create another"}
	}
	return c.printKey(k, store)
}

// readPrivateKey reads the private key to import from path, or standard
// input for "-".
func (c *call) readPrivateKey(path string) (crypto.Signer, error) {
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(bufio.NewReader(io.LimitReader(c.stdin, 64<<10)))
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, usagef("--private-key-file: %v", err)
	}
	priv, err := ebaysig.ParsePrivateKey(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, usagef("--private-key-file: not a private key eBay issues (base64 PKCS#8 or PEM)")
	}
	return priv, nil
}

// printKey prints k without its private key.
func (c *call) printKey(k ebaysig.Key, store ebayauth.Store) error {
	d := signingKeyDoc{ID: k.ID, Cipher: string(k.Cipher()), JWE: k.Fingerprint(), Expiry: k.Expiry,
		ExpiresSoon: k.ExpiresSoon(time.Now()), Store: storeLabel(store)}
	return c.output(d, func(w io.Writer) {
		fmt.Fprintf(w, "signing key %s (%s), JWE %s, kept in %s\n", d.ID, d.Cipher, d.JWE, d.Store)
		if !d.Expiry.IsZero() {
			fmt.Fprintf(w, "expires %s (in %s)\n", d.Expiry.UTC().Format(time.DateOnly), human(time.Until(d.Expiry)))
		}
		if d.ExpiresSoon {
			fmt.Fprintln(w, "WARNING: the key expires within 90 days: run ebaytoken signing-key create, then move your signed calls to it")
		}
	})
}

// appManager is a Manager of application tokens for the settings' keyset:
// the Key Management API wants one, whatever token the settings keep.
func (c *call) appManager(store ebayauth.Store) (*ebayauth.Manager, error) {
	cfg := c.s.config()
	cfg.RefreshToken, cfg.RefreshTokenExpiry, cfg.FallbackToken = "", time.Time{}, ""
	cfg.Scopes = nil
	cfg.Store = store
	cfg.Logger = c.log
	m, err := ebayauth.New(cfg)
	if err != nil {
		return nil, usagef("%s", strings.TrimPrefix(err.Error(), "ebayauth: "))
	}
	return m, nil
}

// apizURL is the base of the Key Management API for the settings.
func (s *settings) apizURL() string {
	if s.Endpoint.APIZURL != "" {
		return s.Endpoint.APIZURL
	}
	return s.Endpoint.APIURL
}

// signingKeyWarning is status's warning about the signing key in store,
// "" if there is none or it is far from expiry.
func signingKeyWarning(ctx context.Context, store ebayauth.Store) string {
	secrets, ok := store.(ebayauth.SecretStore)
	if !ok {
		return ""
	}
	k, err := ebaysig.LoadKey(ctx, secrets)
	if err != nil || !k.ExpiresSoon(time.Now()) {
		return ""
	}
	if !time.Now().Before(k.Expiry) {
		return fmt.Sprintf("the digital-signature key %s has expired: run ebaytoken signing-key create", k.ID)
	}
	return fmt.Sprintf("the digital-signature key %s expires in %s (%s): run ebaytoken signing-key create",
		k.ID, human(time.Until(k.Expiry)), k.Expiry.UTC().Format(time.DateOnly))
}

func storeLabel(s ebayauth.Store) string {
	if n, ok := s.(fmt.Stringer); ok {
		return n.String()
	}
	return "the store"
}
