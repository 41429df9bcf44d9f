package main

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/ebayauth/ebayauth/console"
)

// envConsoleSecret is the console's admin secret, for serve; or
// --console-secret-file. No flag takes the secret itself: ps shows flags.
const envConsoleSecret = "EBAY_CONSOLE_SECRET"

// consoleSecret returns the console's admin secret: the content of
// --console-secret-file (the end of its last line aside), else
// EBAY_CONSOLE_SECRET. Without either it returns nil if serve listens on
// loopback only, and refuses to start otherwise, rather than show the
// console (and its Refresh now button) to the network.
func (o *serveOptions) consoleSecret(log *slog.Logger) ([]byte, error) {
	env := os.Getenv(envConsoleSecret)
	if o.consoleSecretFile == "" {
		switch {
		case env != "":
			return []byte(env), nil
		case !console.IsLoopback(o.listen) && listenable(o.listen):
			return nil, usagef("--listen %s reaches beyond this machine: set %s or --console-secret-file, so that the console at / asks for it (or listen on 127.0.0.1)",
				o.listen, envConsoleSecret)
		}
		return nil, nil
	}
	const name = "--console-secret-file"
	f, err := os.Open(o.consoleSecretFile)
	if err != nil {
		return nil, usagef("%s: %v", name, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	switch {
	case err != nil:
		return nil, usagef("%s: %v", name, err)
	case len(b) > maxSecretFile:
		return nil, usagef("%s %s: larger than %d KiB: not a secret", name, o.consoleSecretFile, maxSecretFile>>10)
	}
	secret := strings.TrimRight(string(b), "\r\n")
	if secret == "" {
		return nil, usagef("%s: the file is empty", name)
	}
	if env != "" && env != secret {
		log.Warn("ebaytoken: " + name + " and " + envConsoleSecret + " disagree; using " + name)
	}
	return []byte(secret), nil
}

// listenable reports whether addr looks like an address serve can listen
// on; if not, listening fails and says why.
func listenable(addr string) bool {
	_, port, err := net.SplitHostPort(addr)
	_, perr := strconv.ParseUint(port, 10, 16)
	return err == nil && perr == nil
}

// newConsole returns the token console serve mounts at /, asking for
// secret if it is not empty (consoleSecret decided whether it must be).
func newConsole(ss *session, sellers *servedSellers, rec *console.Recorder, secret []byte, log *slog.Logger) (http.Handler, error) {
	cfg := console.Config{Manager: ss.m, Recorder: rec, AdminSecret: secret, Logger: log}
	if sellers != nil {
		cfg.Accounts, cfg.AccountStore = sellers.a, sellers.store
		cfg.ConsentURL = func(string) string { return sellers.consentPage() }
	}
	con, err := console.New(cfg)
	if err != nil {
		return nil, usagef("%s", strings.TrimPrefix(err.Error(), "console: "))
	}
	return con, nil
}
