package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestDemo(t *testing.T) {
	clearEnv(t)
	// Real-looking credentials in the environment: demo must say so and
	// still talk only to its fake.
	t.Setenv(envClientID, "RealApp-PRD-1234-5678")
	t.Setenv(envClientSecret, "PRD-real-secret-do-not-use")
	t.Setenv(envTokenURL, "https://api.ebay.invalid/identity/v1/oauth2/token")

	start := time.Now()
	r := runCLI(t, "demo", "--quick", "--workers", "40", "--json")
	took := time.Since(start)
	if r.code != 0 {
		t.Fatalf("demo exited %d\n%s", r.code, r)
	}
	var sum demoSummary
	if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil {
		t.Fatalf("%v\n%s", err, r)
	}
	if sum.Target != "fake" || sum.Failures != 0 || sum.Incomplete != "" {
		t.Errorf("summary: %+v", sum)
	}
	if sum.Requests < 200 || sum.Mints < 4 || sum.Retries401 < 1 || sum.FallbackUses < 1 || sum.RefreshFailures < 2 || sum.Token503s < 2 {
		t.Errorf("the demo did not go through every phase: %+v", sum)
	}
	if len(sum.Phases) != 4 {
		t.Errorf("phases: %+v", sum.Phases)
	} else if want := "1 token minted before expiry; no request waited"; sum.Phases[1].Outcome != want {
		t.Errorf("rotation phase: got %q; want %q", sum.Phases[1].Outcome, want)
	}
	if took > 25*time.Second {
		t.Errorf("demo --quick took %v", took)
	}
	for _, want := range []string{"credentials are configured", "talks only to a fake eBay", "demo --live", "cold start", "revokes every token"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if strings.Contains(r.stdout+r.stderr, "PRD-real-secret-do-not-use") {
		t.Error("demo printed the configured secret")
	}

	var text bytes.Buffer
	printDemo(&text, &sum)
	for _, want := range []string{"requests", "failures          0", "token mints", "401 retries", "fallback uses"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, text.String())
		}
	}
}

func TestPlural(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		noun string
		want string
	}{
		{0, "token", "0 tokens"},
		{1, "token", "1 token"},
		{2, "token", "2 tokens"},
		{1, "retry", "1 retry"},
		{3, "retry", "3 retries"},
		{1, "use", "1 use"},
		{-1, "token", "-1 tokens"},
	} {
		if got := plural(tc.n, tc.noun); got != tc.want {
			t.Errorf("plural(%d, %q) = %q; want %q", tc.n, tc.noun, got, tc.want)
		}
	}
}

func TestDemoLive(t *testing.T) {
	f := newFake(t) // "live" here is the fake, named by EBAY_API_URL
	r := runCLI(t, "demo", "--live", "--requests", "2").want(t, 0)
	if n := f.APIRequests(); n != 2 {
		t.Errorf("%d API requests; want 2", n)
	}
	if !strings.Contains(r.stdout, "failures          0") || !strings.Contains(r.stderr, f.URL) {
		t.Errorf("demo --live:\n%s", r)
	}
	f.FailNext(-1, 401, `{"error":"invalid_client","error_description":"client authentication failed"}`)
	runCLI(t, "demo", "--live", "--requests", "1", "--no-store").want(t, 1)
	f.assertNoSecrets(t, r.stdout, r.stderr)
}

func TestDemoBadFlags(t *testing.T) {
	clearEnv(t)
	for _, args := range [][]string{
		{"--workers", "0"}, {"--lifetime", "1s"}, {"--refresh-before", "10s"}, {"--rotations", "-1"},
	} {
		runCLI(t, append([]string{"demo"}, args...)...).want(t, 2)
	}
	// A broken configuration does not stop the demo's checks.
	t.Setenv(envEnvironment, "staging")
	r := runCLI(t, "demo", "--workers", "0").want(t, 2)
	if !strings.Contains(r.stderr, "ignoring the configuration") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}
