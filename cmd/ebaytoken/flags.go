package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"syscall"
)

// settingSet says which settings a subcommand reads. Their flags are
// registered on its flag set (so its help lists them and it accepts them)
// and their environment variables are read and checked; nothing else is.
// A subcommand is not stopped by a bad value of a setting it does not use.
type settingSet uint

const (
	readsAccount  settingSet = 1 << iota // --config, --env, --client-id; the client secret
	readsScopes                          // --scopes
	readsRuName                          // --runame
	readsTokenURL                        // --token-url, --api-url
	readsAuthURL                         // --auth-url, --api-url
	readsStore                           // --redis, --store-file, --no-store; the Redis seal key
	readsManager                         // --refresh-buffer, --refresh-token-expiry; the refresh and fallback tokens
	readsSchedule                        // --refresh-interval, --validation-interval; scheduled refresh on/off
	readsLogs                            // -v (also a global flag)
)

// The settings of the kinds of subcommand.
const (
	// managerSettings: a Manager over the store (status, refresh, token…).
	managerSettings = readsAccount | readsScopes | readsTokenURL | readsStore | readsManager | readsLogs
	// serveSettings: the daemon's Manager and its schedule, and (serve
	// --accounts) the sellers' consent.
	serveSettings = managerSettings | readsSchedule | readsRuName | readsAuthURL
	// consentSettings: what the consent URL is made of.
	consentSettings = readsAccount | readsScopes | readsRuName | readsAuthURL
	// exchangeSettings: what the authorization-code grant sends.
	exchangeSettings = readsAccount | readsRuName | readsTokenURL | readsLogs
	// accountsSettings: sellers' accounts over the store, their consent
	// and the exchange that records it.
	accountsSettings = managerSettings | readsRuName | readsAuthURL
	// signingKeySettings: an application token for the Key Management API,
	// and the store that keeps the key.
	signingKeySettings = readsAccount | readsTokenURL | readsStore | readsLogs
)

func (s settingSet) has(x settingSet) bool { return s&x != 0 }

// settings returns what cmd reads: none with noCommon, managerSettings if
// the command table says nothing.
func (cmd *command) settings() settingSet {
	switch {
	case cmd.noCommon:
		return 0
	case cmd.reads == 0:
		return managerSettings
	}
	return cmd.reads
}

// globalFlags come before the subcommand: ebaytoken -v status.
type globalFlags struct {
	verbose bool
}

const verboseUsage = "verbose: log the library's info and debug messages"

// parseGlobal parses the global flags at the head of args and returns the
// rest, the subcommand first.
func parseGlobal(args []string) (globalFlags, []string, error) {
	var g globalFlags
	fs := flag.NewFlagSet("ebaytoken", flag.ContinueOnError)
	fs.Usage = func() {}
	fs.SetOutput(io.Discard) // run reports the error in one line
	fs.BoolVar(&g.verbose, "v", false, verboseUsage)
	err := fs.Parse(args)
	return g, fs.Args(), err
}

// verbose reports whether -v was given, before or after the subcommand.
func (c *call) verbose() bool {
	return c.global.verbose || (c.common != nil && c.common.verbose)
}

// checkListen judges a listen address, host:port with a numeric port, so
// that a mistyped one is a usage error rather than a failure to listen.
func checkListen(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port (e.g. 127.0.0.1:8080)", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q: the port is not a number from 0 to 65535", addr)
	}
	return nil
}

// listenError is err, from net.Listen on addr named by from, as a usage
// error if the address is at fault (a host that does not resolve, an
// address not of this machine), else as a failure.
func listenError(from, addr string, err error) error {
	var dnsErr *net.DNSError
	var addrErr *net.AddrError
	if errors.As(err, &dnsErr) || errors.As(err, &addrErr) || errors.Is(err, syscall.EADDRNOTAVAIL) {
		return usagef("%s %s: %v", from, addr, err)
	}
	return &exitError{code: exitFailure, msg: fmt.Sprintf("%s %s: %v", from, addr, err)}
}
