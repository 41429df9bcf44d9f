package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/ebaytest"
)

// fakeEnv, set in the environment, makes this program (or its test binary)
// serve a fake eBay instead: the memory scenario keeps the fake in another
// process so that the fake's own heap does not count.
const fakeEnv = "EBAYAUTH_BENCH_FAKE"

// serveFake starts a fake eBay, writes its Endpoint as one JSON line and
// then -refresh-tokens refresh tokens one per line to stdout, and serves
// until stdin closes.
func serveFake(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("fake", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("refresh-tokens", 0, "how many refresh tokens to issue")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	s := ebaytest.NewServer()
	defer s.Close()
	w := bufio.NewWriter(stdout)
	json.NewEncoder(w).Encode(s.Endpoint())
	for range *n {
		fmt.Fprintln(w, s.IssueRefreshToken())
	}
	if err := w.Flush(); err != nil {
		return 1
	}
	io.Copy(io.Discard, stdin)
	return 0
}

// fakeProc is a fake eBay in a child process.
type fakeProc struct {
	Endpoint      ebayauth.Endpoint
	RefreshTokens []string
	cmd           *exec.Cmd
	stdin         io.WriteCloser
}

// startFake starts a fake eBay in a child process issuing n refresh tokens.
func startFake(ctx context.Context, n int) (*fakeProc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, exe, "-refresh-tokens", fmt.Sprint(n))
	cmd.Env = append(os.Environ(), fakeEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	f := &fakeProc{cmd: cmd, stdin: stdin}
	r := bufio.NewReader(stdout)
	line, err := r.ReadString('\n')
	if err == nil {
		err = json.Unmarshal([]byte(line), &f.Endpoint)
	}
	for err == nil && len(f.RefreshTokens) < n {
		line, err = r.ReadString('\n')
		f.RefreshTokens = append(f.RefreshTokens, strings.TrimSpace(line))
	}
	if err != nil {
		f.Close()
		return nil, errors.Join(errors.New("starting the fake eBay"), err)
	}
	go io.Copy(io.Discard, r)
	return f, nil
}

// Close stops the child and waits for it.
func (f *fakeProc) Close() error {
	f.stdin.Close()
	return f.cmd.Wait()
}
