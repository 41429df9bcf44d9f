package main

import (
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// Flags by the settings they set: a subcommand that reads a setting
// takes its flags, and only then.
var (
	managerFlags = []string{"config", "env", "client-id", "scopes", "token-url", "api-url",
		"redis", "store-file", "database", "no-store", "refresh-buffer", "refresh-token-expiry", "v"}
	storeFlags    = []string{"redis", "store-file", "database", "no-store"}
	scheduleFlags = []string{"refresh-interval", "validation-interval"}
)

// subcommandFlags are the flags each subcommand reads: its help lists them
// and it accepts them, and no other.
var subcommandFlags = map[string][]string{
	"status":        append([]string{"json", "account"}, managerFlags...),
	"refresh":       append([]string{"json", "account"}, managerFlags...),
	"force-refresh": append([]string{"json", "account"}, managerFlags...),
	"validate":      append([]string{"json", "account"}, managerFlags...),
	"token":         append([]string{"json", "account"}, managerFlags...),
	"accounts":      append([]string{"json", "limit", "state", "runame", "auth-url"}, managerFlags...),
	"signing-key": append([]string{"json", "cipher", "id", "private-key-file", "config", "env", "client-id", "token-url", "api-url", "v"},
		storeFlags...),
	"consent-url": {"json", "config", "env", "client-id", "scopes", "runame", "auth-url", "api-url", "state", "prompt-login"},
	"exchange":    {"json", "config", "env", "client-id", "runame", "token-url", "api-url", "v"},
	"serve": append(append([]string{"listen", "webhook", "webhook-secret-file", "source", "refresh-token-check",
		"accounts", "state-key-file", "deletion-verification-token-file", "deletion-endpoint", "console-secret-file", "runame", "auth-url"},
		managerFlags...), scheduleFlags...),
	// demo --live talks to the configured eBay: it reads what a Manager reads.
	"demo": append([]string{"json", "quick", "workers", "rotations", "lifetime", "refresh-before", "live", "requests"},
		managerFlags...),
	"fake-ebay": {"listen", "token-lifetime"},
	"version":   {"json"},
}

var helpFlag = regexp.MustCompile(`(?m)^  -([a-z0-9-]+)`)

// helpFlags are the flags "ebaytoken help SUB" lists.
func helpFlags(t *testing.T, sub string) []string {
	t.Helper()
	r := runCLI(t, sub, "--help").want(t, 0)
	var got []string
	for _, m := range helpFlag.FindAllStringSubmatch(r.stdout, -1) {
		got = append(got, m[1])
	}
	sort.Strings(got)
	if h := runCLI(t, "help", sub).want(t, 0); h.stdout != r.stdout {
		t.Errorf("help %s and %s --help differ:\n%s\n---\n%s", sub, sub, h.stdout, r.stdout)
	}
	return got
}

func TestSubcommandFlags(t *testing.T) {
	clearEnv(t)
	all := map[string]bool{}
	for _, fl := range subcommandFlags {
		for _, f := range fl {
			all[f] = true
		}
	}
	for _, cmd := range commands {
		t.Run(cmd.name, func(t *testing.T) {
			want, ok := subcommandFlags[cmd.name]
			if !ok {
				t.Fatalf("no entry for %s in subcommandFlags: say which flags it reads", cmd.name)
			}
			want = slices.Sorted(slices.Values(want))
			got := helpFlags(t, cmd.name)
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("%s --help lists\n  %q;\nwant\n  %q", cmd.name, got, want)
			}
			// What it does not read, it refuses.
			for f := range all {
				if slices.Contains(want, f) {
					continue
				}
				r := runCLI(t, cmd.name, "--"+f).want(t, exitUsage)
				if !strings.Contains(r.stderr, "flag provided but not defined: -"+f) {
					t.Errorf("%s --%s: stderr %q; want it refused as not defined", cmd.name, f, r.stderr)
				}
			}
		})
	}
}

// TestSubcommandSettings: a subcommand reads only the environment of the
// settings it uses, so a bad value of another's setting does not stop it.
func TestSubcommandSettings(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		code int
	}{
		{"consent-url ignores the store", map[string]string{envRedisURL: "http://not-redis"}, []string{"consent-url"}, 0},
		{"consent-url ignores the schedule", map[string]string{envRefreshInterval: "hourly"}, []string{"consent-url"}, 0},
		{"status ignores the schedule", map[string]string{envRefreshInterval: "hourly"}, []string{"status"}, 1},
		{"serve reads the schedule", map[string]string{envRefreshInterval: "hourly"}, []string{"serve", "--listen", "127.0.0.1:0"}, 2},
		{"status reads the store", map[string]string{envRedisURL: "http://not-redis"}, []string{"status"}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			newFake(t)
			t.Setenv(envRuName, "Test_RuName")
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			runCLI(t, tc.args...).want(t, tc.code)
		})
	}
}

// TestGlobalFlags: flags before the subcommand apply to it.
func TestGlobalFlags(t *testing.T) {
	f := newFake(t)
	r := runCLI(t, "-v", "refresh").want(t, 0)
	if !strings.Contains(r.stderr, "ebayauth: token refreshed") {
		t.Errorf("-v before the subcommand shows no library logs:\n%s", r)
	}
	if r := runCLI(t, "--v", "status"); r.code != 0 || !strings.Contains(r.stdout, "fresh (healthy)") {
		t.Errorf("--v status:\n%s", r)
	}
	if r := runCLI(t, "force-refresh"); r.code != 0 || r.stderr != "" {
		t.Errorf("without -v the library is silent:\n%s", r)
	}
	for _, tc := range []struct {
		name string
		args []string
		err  string
	}{
		{"unknown global flag", []string{"-x", "status"}, "flag provided but not defined: -x"},
		{"global flag alone", []string{"-v"}, "missing subcommand"},
		{"subcommand flag before the subcommand", []string{"--json", "status"}, "flag provided but not defined: -json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, tc.args...).want(t, exitUsage)
			if !strings.Contains(r.stderr, tc.err) {
				t.Errorf("stderr %q; want %q", r.stderr, tc.err)
			}
		})
	}
	if r := runCLI(t, "help").want(t, 0); !strings.Contains(r.stdout, "ebaytoken [-v] SUBCOMMAND") {
		t.Errorf("help does not show the global flag:\n%s", r.stdout)
	}
	f.assertNoSecrets(t, r.stdout, r.stderr)
}
