package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// quickStartMarker precedes the README's offline quick start.
const quickStartMarker = "<!-- cmd/ebaytoken/quickstart_test.go runs this block as printed. -->"

// quickStart returns the lines of the shell block after the marker.
func quickStart(t *testing.T, readme string) []string {
	t.Helper()
	_, after, ok := strings.Cut(readme, quickStartMarker)
	if !ok {
		t.Fatalf("README.md has no %q", quickStartMarker)
	}
	after = strings.TrimLeft(after, "\n")
	body, ok := strings.CutPrefix(after, "```sh\n")
	if !ok {
		t.Fatal("the quick start marker is not followed by a ```sh block")
	}
	body, _, ok = strings.Cut(body, "```")
	if !ok {
		t.Fatal("the quick start block does not end")
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(body), "\n") {
		lines = append(lines, strings.TrimSpace(l))
	}
	return lines
}

// TestREADMEQuickStart runs the README's offline quick start as printed,
// each line in sh, with two substitutions: the built command for "go run
// ./cmd/ebaytoken" (the same program, not compiled at every line) and a
// directory of the test's own for /tmp/ (so that runs do not share a
// file). The first line starts the fake in the background; the second
// loads its settings, and so comes before each later line, as in the one
// shell the README means.
func TestREADMEQuickStart(t *testing.T) {
	bin := buildBinary(t)
	lines := quickStart(t, readFile(t, "../../README.md"))
	if len(lines) < 3 {
		t.Fatalf("the quick start has %d lines; want the fake, its settings and a subcommand at least", len(lines))
	}
	dir := t.TempDir()
	subst := strings.NewReplacer("go run ./cmd/ebaytoken", bin, "/tmp/", dir+"/")
	env := processEnv(map[string]string{"HOME": t.TempDir(), "XDG_CACHE_HOME": t.TempDir()})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sh := func(script string, stdout, stderr *os.File) *exec.Cmd {
		cmd := exec.CommandContext(ctx, "sh", "-c", script)
		cmd.Env, cmd.Dir = env, dir
		cmd.Stdout, cmd.Stderr = stdout, stderr
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		return cmd
	}

	// 1. The fake, in the background of its own shell, which returns at
	// once. Its process group is killed at the end, as kill %1 would.
	start := lines[0]
	if !strings.Contains(start, "ebaytoken fake-ebay") || !strings.Contains(start, "&") {
		t.Fatalf("the first line %q does not start fake-ebay in the background", start)
	}
	fakeErr, err := os.Create(filepath.Join(t.TempDir(), "fake.stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer fakeErr.Close()
	bg := sh(subst.Replace(start), nil, fakeErr)
	if err := bg.Run(); err != nil {
		t.Fatalf("%s: %v", start, err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			_ = syscall.Kill(-bg.Process.Pid, syscall.SIGTERM)
		}
	}
	defer stop()

	// 2. The settings: waits for the fake, then loads them.
	load := subst.Replace(lines[1])
	if r := runShell(t, sh, load); r.code != 0 {
		t.Fatalf("%s:\n%s\nfake-ebay's stderr:\n%s", lines[1], r, readFileMaybe(fakeErr.Name()))
	}
	envFile := readFile(t, filepath.Join(dir, "fake.env"))
	vars := parseExports(t, envFile)
	secrets := []string{vars[envClientSecret], vars[envRefreshToken]}

	// 3. Each subcommand, in the shell the settings were loaded in.
	want := map[string]struct {
		code int
		out  string
	}{
		"refresh":  {0, "refreshed: new token "},
		"validate": {0, "valid: eBay accepted token "},
		"status":   {0, "fresh (healthy)"},
	}
	var outputs []string
	for _, line := range lines[2:] {
		script := subst.Replace(line)
		_, call, ok := strings.Cut(script, bin+" ")
		if !ok {
			t.Fatalf("line %q runs no ebaytoken subcommand: teach this test what it should do", line)
		}
		sub := strings.Fields(call)[0]
		w, ok := want[sub]
		if !ok {
			t.Fatalf("line %q runs %s: teach this test what it should print", line, sub)
		}
		r := runShell(t, sh, load+"\n"+script)
		outputs = append(outputs, r.stdout, r.stderr)
		if r.code != w.code || !strings.Contains(r.stdout, w.out) {
			t.Errorf("%s: got exit %d; want %d with %q\n%s", line, r.code, w.code, w.out, r)
		}
		if sub == "status" && !strings.Contains(r.stdout, "file:"+vars[envTokenFile]+"\n") {
			t.Errorf("status does not use the fake's token file %s:\n%s", vars[envTokenFile], r.stdout)
		}
	}
	// The access token is a secret too: token prints it.
	r := runShell(t, sh, load+"\n"+bin+" token")
	secrets = append(secrets, strings.TrimSpace(r.stdout))
	assertNoSecrets(t, secrets, outputs...)

	stop()
	if err := waitGone(ctx, -bg.Process.Pid); err != nil {
		t.Errorf("the fake did not stop on SIGTERM: %v", err)
	}
	if _, err := os.Stat(filepath.Dir(vars[envTokenFile])); !os.IsNotExist(err) {
		t.Errorf("the fake left its token directory behind (%v)", err)
	}
}

// runShell runs script in sh and returns its outcome.
func runShell(t *testing.T, sh func(string, *os.File, *os.File) *exec.Cmd, script string) result {
	t.Helper()
	dir := t.TempDir()
	out, err := os.Create(filepath.Join(dir, "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	errf, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer errf.Close()
	code := 0
	if err := sh(script, out, errf).Run(); err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("sh -c %q: %v", script, err)
		}
		code = ee.ExitCode()
	}
	return result{code, readFile(t, out.Name()), readFile(t, errf.Name())}
}

// waitGone waits until no process of the group pgid (negative) is left.
func waitGone(ctx context.Context, pgid int) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if err := syscall.Kill(pgid, 0); err == syscall.ESRCH {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}
