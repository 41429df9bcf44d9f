package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/ebaytest"
	"github.com/ebayauth/ebayauth/internal/redistest"
)

// buildBinary builds the command into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH to build the command with")
	}
	bin := filepath.Join(t.TempDir(), "ebaytoken")
	cmd := exec.Command(goTool, "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// processEnv is the environment of a child process: this one's without
// any EBAY_ variable, plus the test's.
func processEnv(extra map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "EBAY_") {
			env = append(env, kv)
		}
	}
	for k, v := range extra {
		env = append(env, k+"="+v)
	}
	return env
}

func runProcess(t *testing.T, bin string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatal(err)
		}
		code = ee.ExitCode()
	}
	return result{code, stdout.String(), stderr.String()}
}

// TestTwoProcesses runs refresh and then status --json as two processes
// that share the file store, as two shells would.
func TestTwoProcesses(t *testing.T) {
	bin := buildBinary(t)
	f := newFake(t)
	env := processEnv(map[string]string{
		envClientID:     ebaytest.ClientID,
		envClientSecret: ebaytest.ClientSecret,
		envAPIURL:       f.URL,
		envTokenFile:    f.tokenFile,
		"HOME":          t.TempDir(),
	})

	r := runProcess(t, bin, env, "refresh").want(t, 0)
	if !strings.HasPrefix(r.stdout, "refreshed") {
		t.Errorf("refresh:\n%s", r)
	}
	r2 := runProcess(t, bin, env, "status", "--json").want(t, 0)
	var d statusDoc
	if err := json.Unmarshal([]byte(r2.stdout), &d); err != nil {
		t.Fatalf("%v\n%s", err, r2)
	}
	if d.State != ebayauth.StateFresh || !d.Healthy || d.Fingerprint != fingerprint(f.LastIssued()) || d.LastRefresh.IsZero() {
		t.Errorf("status in the second process: %+v", d)
	}
	r3 := runProcess(t, bin, env, "token").want(t, 0)
	if strings.TrimSpace(r3.stdout) != f.LastIssued() {
		t.Error("token in a third process printed another token")
	}
	if n := f.TotalTokenRequests(); n != 1 {
		t.Errorf("%d token requests; want 1: status and token read the store", n)
	}
	f.assertNoSecrets(t, r.stdout, r.stderr, r2.stdout, r2.stderr, r3.stderr)
}

// TestServeSignal sends SIGTERM to serve and expects a clean exit.
func TestServeSignal(t *testing.T) {
	bin := buildBinary(t)
	f := newFake(t)
	env := processEnv(map[string]string{
		envClientID:     ebaytest.ClientID,
		envClientSecret: ebaytest.ClientSecret,
		envAPIURL:       f.URL,
		envTokenFile:    f.tokenFile,
	})
	cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:0")
	cmd.Env = env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	waitLine := func(substr string) {
		t.Helper()
		timeout := time.After(10 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("serve's stderr ended before %q", substr)
				}
				if strings.Contains(l, substr) {
					return
				}
			case <-timeout:
				cmd.Process.Kill()
				t.Fatalf("no %q within 10s", substr)
			}
		}
	}
	waitLine(`"msg":"ebayauth: token refreshed"`)
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitLine(`"msg":"ebaytoken: stopped"`)
	for range lines { // drain, so that the pipe closes
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("serve after SIGTERM: %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("shutdown took %v", took)
	}
}

func TestRedisStore(t *testing.T) {
	srv := redistest.NewPrivate(t)
	f := newFake(t)
	url := "redis://" + srv.Addr + "/0"
	t.Setenv(envRedisSealKey, strings.Repeat("0f", 16))
	runCLI(t, "refresh", "--redis", url).want(t, 0)
	t.Setenv(envRedisURL, url)
	d := statusJSON(t, 0)
	if d.State != ebayauth.StateFresh || !strings.HasPrefix(d.Store, "redis:") || d.Fingerprint != fingerprint(f.LastIssued()) {
		t.Errorf("status over Redis: %+v", d)
	}
	r := runCLI(t, "token").want(t, 0)
	if strings.TrimSpace(r.stdout) != f.LastIssued() || f.TotalTokenRequests() != 1 {
		t.Errorf("token over Redis minted again (%d token requests)", f.TotalTokenRequests())
	}
	// The file store was not touched.
	if _, err := os.Stat(f.tokenFile); err == nil {
		t.Error("--redis wrote the token file")
	}
	// Redis down: status says so, unhealthy.
	srv.Kill()
	r = runCLI(t, "status").want(t, 1)
	if !strings.Contains(r.stdout, "cannot read the store") {
		t.Errorf("status with Redis down:\n%s", r)
	}
	f.assertNoSecrets(t, r.stdout, r.stderr)
}

// TestStateSharedAcrossProcesses: refresh, validate and status run as
// separate processes over the file store and over Redis, and report one
// truth, kept in the store's record: the same last refresh and last
// validation; a token eBay revoked is reported (exit 1) until refresh
// replaces it with one mint.
func TestStateSharedAcrossProcesses(t *testing.T) {
	bin := buildBinary(t)
	for _, store := range []string{"file", "redis"} {
		t.Run(store, func(t *testing.T) {
			f := newFake(t)
			vars := map[string]string{
				envClientID:     ebaytest.ClientID,
				envClientSecret: ebaytest.ClientSecret,
				envAPIURL:       f.URL,
				envTokenFile:    f.tokenFile,
				"HOME":          t.TempDir(),
			}
			if store == "redis" {
				vars[envRedisURL] = "redis://" + redistest.NewPrivate(t).Addr + "/0"
				vars[envRedisSealKey] = strings.Repeat("0f", 16)
			}
			env := processEnv(vars)
			statusOf := func(wantCode int) statusDoc {
				t.Helper()
				r := runProcess(t, bin, env, "status", "--json").want(t, wantCode)
				var d statusDoc
				if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
					t.Fatalf("%v\n%s", err, r)
				}
				f.assertNoSecrets(t, r.stdout, r.stderr)
				return d
			}

			r := runProcess(t, bin, env, "refresh", "--json").want(t, 0)
			var first refreshResult
			if err := json.Unmarshal([]byte(r.stdout), &first); err != nil || first.Action != "refreshed" {
				t.Fatalf("refresh: %v\n%s", err, r)
			}
			before := time.Now()
			runProcess(t, bin, env, "validate").want(t, 0)
			after := time.Now()

			d := statusOf(0)
			if !d.LastRefresh.Equal(first.LastRefresh) || d.LastRefresh.IsZero() {
				t.Errorf("status's last refresh %v; want the refreshing process's %v", d.LastRefresh, first.LastRefresh)
			}
			if d.LastValidation.Before(before.Add(-time.Second)) || d.LastValidation.After(after) || d.ValidationError != "" {
				t.Errorf("status's last validation %v %q; want the validate process's, between %v and %v, accepted",
					d.LastValidation, d.ValidationError, before, after)
			}
			if d.State != ebayauth.StateFresh || !d.Healthy || d.Fingerprint != first.Fingerprint {
				t.Errorf("status: %s healthy=%v %s; want fresh, healthy, %s", d.State, d.Healthy, d.Fingerprint, first.Fingerprint)
			}

			// eBay revokes the token: validate says so and what to do,
			// status reports it from then on.
			f.RevokeAll()
			v := runProcess(t, bin, env, "validate").want(t, 1)
			if !strings.Contains(v.stdout, "invalid") || !strings.Contains(v.stdout, "ebaytoken refresh") {
				t.Errorf("validate of the revoked token:\n%s", v)
			}
			d = statusOf(1)
			if d.State != ebayauth.StateRejected || d.Healthy || d.ValidationError == "" {
				t.Errorf("status after revocation: %s healthy=%v validation %q; want rejected and unhealthy", d.State, d.Healthy, d.ValidationError)
			}
			mints := f.Mints(ebaytest.GrantClientCredentials)
			r = runProcess(t, bin, env, "refresh").want(t, 0)
			if !strings.HasPrefix(r.stdout, "refreshed") {
				t.Errorf("refresh of the rejected token:\n%s", r)
			}
			if got := f.Mints(ebaytest.GrantClientCredentials) - mints; got != 1 {
				t.Errorf("refresh minted %d tokens; want 1", got)
			}
			d = statusOf(0)
			if d.State != ebayauth.StateFresh || !d.Healthy || d.Fingerprint != fingerprint(f.LastIssued()) {
				t.Errorf("status after refresh: %s healthy=%v %s; want fresh and healthy with the new token", d.State, d.Healthy, d.Fingerprint)
			}
		})
	}
}
