package main

import (
	"flag"
	"io"
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
	// serveSettings: the daemon's Manager and its schedule.
	serveSettings = managerSettings | readsSchedule
	// consentSettings: what the consent URL is made of.
	consentSettings = readsAccount | readsScopes | readsRuName | readsAuthURL
	// exchangeSettings: what the authorization-code grant sends.
	exchangeSettings = readsAccount | readsRuName | readsTokenURL | readsLogs
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
