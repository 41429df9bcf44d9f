// Command ebaytoken manages eBay OAuth tokens from the shell and keeps them
// fresh as a daemon, on top of the ebayauth library.
//
//	ebaytoken status                  what token is held, until when, and how healthy
//	ebaytoken refresh                 refresh the token if it is inside its refresh window
//	ebaytoken force-refresh           mint a new token now
//	ebaytoken validate                ask eBay whether the token works
//	ebaytoken token                   print the access token (for curl)
//	ebaytoken consent-url             print the seller consent URL
//	ebaytoken exchange CODE|URL       trade an authorization code for a refresh token
//	ebaytoken accounts ACTION         the sellers the app acts for: list, show, remove, connect-url, add
//	ebaytoken serve                   the refresh daemon: health, metrics, alerts
//	ebaytoken demo                    run the library against a fake eBay
//	ebaytoken fake-ebay               a fake eBay for the other subcommands to try offline
//	ebaytoken version                 the module version and VCS revision
//
// status, refresh, force-refresh, validate and token act for one seller
// with --account ID; serve --accounts onboards sellers and honours eBay's
// account-deletion notices.
//
// Configuration comes from flags, then the environment (EBAY_CLIENT_ID,
// EBAY_CLIENT_SECRET, … or the original Django names), then an eBay SDK
// config file (--config). Run "ebaytoken help" for the full list.
//
// Exit status: 0 success (status: healthy), 1 failure (status: unhealthy),
// 2 usage or configuration error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"text/tabwriter"

	"github.com/ebayauth/ebayauth"
	"github.com/redis/go-redis/v9"
)

func main() {
	// go-redis logs connection failures to stderr on its own; the command
	// reports store failures itself (status, the Manager's logs and events).
	redis.SetLogger(quietRedis{})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal, a second one kills at once.
		<-ctx.Done()
		stop()
	}()
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// command is one subcommand.
type command struct {
	name    string
	args    string // positional arguments, for the usage line
	summary string
	details string // help's text after the flags, if any
	// data: the output is data, so the subcommand takes --json.
	data bool
	// minArgs and maxArgs bound the positional arguments.
	minArgs, maxArgs int
	// flags registers the subcommand's own flags, if any.
	flags func(fs *flag.FlagSet, c *call)
	// reads are the settings the subcommand reads, by flag and
	// environment. Zero: managerSettings.
	reads settingSet
	// noCommon: the subcommand reads no setting.
	noCommon bool
	run      func(ctx context.Context, c *call) error
}

// commands is the command table.
var commands []*command

func init() {
	commands = []*command{
		{name: "status", summary: "show the token's state, expiry, kind, environment, scopes, refresh history and store; exit 1 if unhealthy",
			data: true, flags: accountFlag, run: cmdStatusFor},
		{name: "refresh", summary: "refresh the token if it is inside its refresh window (else report it fresh)",
			data: true, flags: accountFlag, run: forSeller(cmdRefresh)},
		{name: "force-refresh", summary: "mint a new token now, replacing the cached one",
			data: true, flags: accountFlag, run: forSeller(cmdForceRefresh)},
		{name: "validate", summary: "call eBay's probe with the current token; say valid, or eBay's error",
			data: true, flags: accountFlag, run: forSeller(cmdValidate)},
		{name: "token", summary: "print the current access token alone, refreshing it if needed",
			data: true, flags: accountFlag, run: forSeller(cmdToken)},
		{name: "consent-url", summary: "print the seller consent URL for the configured RuName and scopes",
			data: true, flags: consentFlags, reads: consentSettings, run: cmdConsentURL},
		{name: "exchange", args: "CODE|URL|-", minArgs: 1, maxArgs: 1,
			summary: "trade an authorization code (or the whole redirect URL; - reads it from stdin) for a refresh token",
			data:    true, reads: exchangeSettings, run: cmdExchange},
		{name: "accounts", args: "ACTION [ID|CODE]", minArgs: 1, maxArgs: 2,
			summary: "the sellers the app acts for: list, show ID, remove ID, connect-url, add CODE|URL|-",
			data:    true, reads: accountsSettings, flags: accountsFlags, run: cmdAccounts},
		{name: "signing-key", args: "create|show|import", minArgs: 1, maxArgs: 1,
			summary: "the key eBay's digital signatures need for EU/UK sellers: create it at eBay, show it, or import one; kept in the store",
			data:    true, reads: signingKeySettings, flags: signingKeyFlags, run: cmdSigningKey},
		{name: "serve", summary: "keep the token fresh; serve /healthz, /metrics and /status; send alerts to webhooks",
			flags: serveFlags, reads: serveSettings, run: cmdServe},
		{name: "demo", summary: "run concurrent Browse searches through a Manager against a fake eBay, with rotations, a revocation and an outage",
			data: true, flags: demoFlags, run: cmdDemo},
		{name: "fake-ebay", summary: "run a fake eBay on loopback and print the settings that point the other subcommands at it",
			details: fakeDetails, noCommon: true, flags: fakeFlags, run: cmdFakeEBay},
		{name: "version", summary: "print the module version and the VCS revision the command was built from",
			data: true, noCommon: true, run: cmdVersion},
	}
}

func lookupCommand(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// call is one invocation of a subcommand.
type call struct {
	cmd    *command
	stdin  io.Reader
	stdout io.Writer
	stderr *syncWriter
	args   []string
	json   bool
	common *commonFlags
	global globalFlags
	s      *settings
	log    *slog.Logger

	// subcommand flags
	state       string
	promptLogin bool
	serve       serveOptions
	signingKey  signingKeyOptions
	// sellerEvents receives the events of sellers' Managers (serve).
	sellerEvents atomic.Pointer[func(ebayauth.Event)]
	demo         demoOptions
	fake         fakeOptions
	account      string          // --account: act for this seller
	accounts     accountsOptions // the accounts subcommand, and the sellers --account and serve --accounts open
}

// exitError ends the command with code, after msg if not empty.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// failed is a failure already reported on stdout or stderr: exit 1, no message.
var failed = &exitError{code: exitFailure}

// run runs the command line args and returns the exit status. Tests pass
// tweaks to set what has no flag, such as serve's HTTP limits.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, tweaks ...func(*call)) int {
	errw := &syncWriter{w: stderr}
	global, args, err := parseGlobal(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		usage(stdout)
		return exitOK
	case err != nil:
		fmt.Fprintf(errw, "ebaytoken: %v; run 'ebaytoken help' for usage\n", err)
		return exitUsage
	case len(args) == 0:
		fmt.Fprintln(errw, "ebaytoken: missing subcommand; run 'ebaytoken help' for usage")
		return exitUsage
	}
	if args[0] == "help" {
		if len(args) > 1 {
			if c := lookupCommand(args[1]); c != nil {
				fs, _ := newFlagSet(c, &call{cmd: c, stderr: errw})
				fs.SetOutput(stdout)
				fs.Usage()
				return exitOK
			}
			fmt.Fprintf(errw, "ebaytoken: unknown subcommand %q; run 'ebaytoken help' for usage\n", args[1])
			return exitUsage
		}
		usage(stdout)
		return exitOK
	}
	cmd := lookupCommand(args[0])
	if cmd == nil {
		fmt.Fprintf(errw, "ebaytoken: unknown subcommand %q; run 'ebaytoken help' for usage\n", args[0])
		return exitUsage
	}
	c := &call{cmd: cmd, stdin: stdin, stdout: stdout, stderr: errw, global: global}
	for _, t := range tweaks {
		t(c)
	}
	fs, common := newFlagSet(cmd, c)
	fs.SetOutput(io.Discard) // errors are reported in one line below
	pos, err := parseInterspersed(fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(stdout)
		fs.Usage()
		return exitOK
	}
	if err == nil {
		err = usedRemovedFlag(fs)
	}
	if err != nil {
		fmt.Fprintf(errw, "ebaytoken %s: %v; run 'ebaytoken help %s' for usage\n", cmd.name, err, cmd.name)
		return exitUsage
	}
	if len(pos) < cmd.minArgs || len(pos) > cmd.maxArgs {
		hint := "takes no arguments"
		if cmd.maxArgs > 0 {
			hint = "takes " + cmd.args
		}
		fmt.Fprintf(errw, "ebaytoken %s: %s; run 'ebaytoken help %s' for usage\n", cmd.name, hint, cmd.name)
		return exitUsage
	}
	c.args, c.common = pos, common
	if common != nil {
		s, err := loadSettings(common)
		switch {
		case err == nil:
			c.s = s
		case cmd.name == "demo" && !c.demo.live:
			// The demo runs against a fake: a broken configuration
			// should not keep anyone from trying it.
			c.notef("note: ignoring the configuration (%s): demo uses a fake eBay", err)
		default:
			return c.report(err)
		}
	}
	c.log = c.cliLogger()
	err = cmd.run(ctx, c)
	return c.report(err)
}

// report prints err, if it has a message, and returns its exit status.
func (c *call) report(err error) int {
	if err == nil {
		return exitOK
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(c.stderr, "ebaytoken %s: %s; run 'ebaytoken help %s' for usage\n", c.cmd.name, oneLine(ue.msg), c.cmd.name)
		return exitUsage
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintf(c.stderr, "ebaytoken %s: %s\n", c.cmd.name, ee.msg)
		}
		return ee.code
	}
	fmt.Fprintf(c.stderr, "ebaytoken %s: %s\n", c.cmd.name, err)
	return exitFailure
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// notef writes a note for the operator on stderr.
func (c *call) notef(format string, args ...any) {
	fmt.Fprintf(c.stderr, "ebaytoken: "+format+"\n", args...)
}

// printNotes shows the configuration notes (which name won, ignored
// settings) on stderr, once; serve logs them instead.
func (c *call) printNotes() {
	if c.s == nil {
		return
	}
	for _, n := range c.s.notes {
		c.notef("note: %s", n)
	}
	c.s.notes = nil
}

// cliLogger is the library's logger for the one-shot subcommands: silent
// unless -v, since the command reports outcomes itself.
func (c *call) cliLogger() *slog.Logger {
	if !c.verbose() {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(newTextHandler(c.stderr, slog.LevelDebug))
}

// newFlagSet builds the flag set of cmd, writing into c.
func newFlagSet(cmd *command, c *call) (*flag.FlagSet, *commonFlags) {
	fs := flag.NewFlagSet("ebaytoken "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	var common *commonFlags
	if reads := cmd.settings(); reads != 0 {
		common = addCommon(fs, reads)
	}
	if cmd.data {
		fs.BoolVar(&c.json, "json", false, "print JSON")
	}
	if cmd.flags != nil {
		cmd.flags(fs, c)
	}
	fs.Usage = func() {
		w := fs.Output()
		line := "ebaytoken " + cmd.name + " [flags]"
		if cmd.args != "" {
			line += " " + cmd.args
		}
		fmt.Fprintf(w, "usage: %s\n\n%s\n\nflags:\n", line, cmd.summary)
		printFlags(fs)
		if cmd.details != "" {
			fmt.Fprintf(w, "\n%s", cmd.details)
		}
	}
	return fs, common
}

// removedFlag is a flag that no longer works: using it is a usage error
// that says why and what to do instead, and help does not list it. It
// parses as a boolean flag so that whatever follows it is not taken for
// its value, and it keeps no value: a removed secret flag's value is a
// secret.
type removedFlag struct {
	why  string
	used bool
}

func (f *removedFlag) String() string   { return "" }
func (f *removedFlag) Set(string) error { f.used = true; return nil }
func (f *removedFlag) IsBoolFlag() bool { return true }

// usedRemovedFlag reports the first removed flag used on the command line.
func usedRemovedFlag(fs *flag.FlagSet) error {
	var err error
	fs.Visit(func(f *flag.Flag) {
		if r, ok := f.Value.(*removedFlag); ok && r.used && err == nil {
			err = fmt.Errorf("--%s was removed: %s", f.Name, r.why)
		}
	})
	return err
}

// printFlags prints the defaults of fs's flags, those removed aside.
func printFlags(fs *flag.FlagSet) {
	shown := flag.NewFlagSet(fs.Name(), flag.ContinueOnError)
	shown.SetOutput(fs.Output())
	fs.VisitAll(func(f *flag.Flag) {
		if _, removed := f.Value.(*removedFlag); !removed {
			shown.Var(f.Value, f.Name, f.Usage)
			shown.Lookup(f.Name).DefValue = f.DefValue
		}
	})
	shown.PrintDefaults()
}

// parseInterspersed parses flags anywhere among the positional arguments,
// so that "exchange CODE --json" works; "--" ends the flags.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// usage prints the overview.
func usage(w io.Writer) {
	fmt.Fprint(w, `ebaytoken keeps eBay OAuth tokens fresh and lets you see and drive them.

usage: ebaytoken [-v] SUBCOMMAND [flags] [args]

  -v  `+verboseUsage+` (also after the subcommand)

subcommands:
`)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, c := range commands {
		name := c.name
		if c.args != "" {
			name += " " + c.args
		}
		fmt.Fprintf(tw, "  %s\t%s\n", name, c.summary)
	}
	tw.Flush()
	fmt.Fprint(w, `
Each subcommand reads only the settings it uses, by flag and environment;
run 'ebaytoken help SUBCOMMAND' for its flags.

configuration (flags over environment over --config file; the original
Django names work too, and where two names disagree a note says which won):
`)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  setting\tflag\tenvironment\tDjango name")
	rows := envTable()
	for _, r := range rows {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", r[0], r[1], r[2], r[3])
	}
	tw.Flush()
	fmt.Fprint(w, `
Secrets have no flag (flags show in ps and shell history). Tokens and secrets
are printed only by 'token' and 'exchange' (and 'fake-ebay', the fake's own);
elsewhere a fingerprint stands in.

exit status: 0 success, 1 failure (status: unhealthy), 2 usage or configuration error.
`)
}

// envTable lists the settings for usage and the README.
func envTable() [][4]string {
	rows := [][4]string{
		{"client id (App ID)", "--client-id", envClientID, djangoAppID},
		{"client secret (Cert ID)", "-", envClientSecret, djangoClientSecret + ", " + djangoCertID},
		{"refresh token (user tokens)", "-", envRefreshToken, djangoRefreshToken},
		{"refresh token expiry", "--refresh-token-expiry", envRefreshTokenExp, "-"},
		{"scopes", "--scopes", envScopes, "-"},
		{"environment", "--env", envEnvironment, "-"},
		{"REST API base (token and consent URLs derive)", "--api-url", envAPIURL, "-"},
		{"token endpoint (needs --api-url too)", "--token-url", envTokenURL, "-"},
		{"consent page (needs --api-url too)", "--auth-url", envAuthURL, "-"},
		{"fallback token", "-", envFallback, djangoUserToken},
		{"RuName", "--runame", envRuName, "-"},
		{"Redis store", "--redis", envRedisURL, "-"},
		{"Redis seal key (hex/base64)", "-", envRedisSealKey, "-"},
		{"token file", "--store-file", envTokenFile, "-"},
		{"PostgreSQL (accounts)", "--database", envDatabaseURL, "-"},
		{"PostgreSQL seal key (hex/base64)", "-", envDatabaseSealKey, "-"},
		{"memory only", "--no-store", "-", "-"},
		{"eBay SDK config file", "--config", envConfig, "-"},
		{"refresh buffer", "--refresh-buffer", envRefreshBuffer, djangoBufferHours + " (hours)"},
		{"refresh interval (serve)", "--refresh-interval", envRefreshInterval, envRefreshInterval + " (seconds)"},
		{"validation interval (serve)", "--validation-interval", envValidateInterval, envValidateInterval + " (seconds)"},
		{"scheduled refresh on/off (serve)", "-", envRefreshEnabled, envRefreshEnabled},
		{"listen address (serve)", "--listen", envListen, "-"},
		{"webhooks (serve)", "--webhook", envWebhook, "-"},
		{"webhook signing secret (serve)", "--webhook-secret-file", envWebhookSecret, "-"},
		{"console admin secret (serve, beyond loopback)", "--console-secret-file", envConsoleSecret, "-"},
		{"onboarding state key, hex (serve --accounts)", "--state-key-file", envStateKey, "-"},
		{"deletion verification token (serve --accounts)", "--deletion-verification-token-file", envDeletionToken, "-"},
		{"deletion endpoint URL as registered (serve --accounts)", "--deletion-endpoint", envDeletionEndpoint, "-"},
		{"cache timeout (not needed)", "-", "-", djangoCacheTimeout},
	}
	return rows
}
