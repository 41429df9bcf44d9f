// Package redistest gives tests a Redis server to talk to.
//
// If redis-server is on PATH, New starts a private one on a free loopback
// port, with persistence off, and kills it when the test ends; a test can
// also kill and restart it. Otherwise New falls back to the server at
// $REDIS_ADDR, or else 127.0.0.1:6379, which it shares with whatever else
// uses it: tests keep to their own key prefix (Prefix) and flush nothing.
// If no server answers, the test is skipped, or fails if
// $EBAYAUTH_REQUIRE_REDIS is 1.
package redistest

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	// EnvAddr names the variable that holds the address of the shared
	// server to fall back to.
	EnvAddr = "REDIS_ADDR"
	// EnvRequire names the variable that, set to 1, turns a skip for want
	// of a server into a failure.
	EnvRequire = "EBAYAUTH_REQUIRE_REDIS"

	defaultAddr  = "127.0.0.1:6379"
	startTimeout = 10 * time.Second
)

// A Server is a Redis server a test may use. Its methods must be called
// from the test's goroutine.
type Server struct {
	// Addr is the server's host:port.
	Addr string

	tb      testing.TB
	bin     string // redis-server; "" for a shared server
	dir     string // working directory and log of a private server
	cmd     *exec.Cmd
	exited  chan struct{} // closed when cmd has exited
	waitErr error         // cmd's exit status, once exited is closed
}

// New returns a server for tb: a private one if redis-server is on PATH,
// else the shared one. It skips tb (or fails it, if $EBAYAUTH_REQUIRE_REDIS
// is 1) if no server can be had.
func New(tb testing.TB) *Server {
	tb.Helper()
	if bin, err := exec.LookPath("redis-server"); err == nil {
		return start(tb, bin)
	}
	addr := os.Getenv(EnvAddr)
	if addr == "" {
		addr = defaultAddr
	}
	if err := ping(addr, time.Second); err != nil {
		unavailable(tb, fmt.Sprintf("no redis-server on PATH, and no Redis at %s: %v", addr, err))
	}
	return &Server{Addr: addr, tb: tb}
}

// NewPrivate is New for a test that kills and restarts the server: it
// never falls back to a shared server, and skips tb (or fails it) if
// redis-server is not on PATH.
func NewPrivate(tb testing.TB) *Server {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		unavailable(tb, "no redis-server on PATH to run a private server")
	}
	return start(tb, bin)
}

func unavailable(tb testing.TB, why string) {
	tb.Helper()
	if os.Getenv(EnvRequire) == "1" {
		tb.Fatalf("redistest: %s, and %s=1", why, EnvRequire)
	}
	tb.Skipf("redistest: %s (set %s=1 to fail instead)", why, EnvRequire)
}

// Private reports whether the server was started for this test.
func (s *Server) Private() bool { return s.bin != "" }

func start(tb testing.TB, bin string) *Server {
	tb.Helper()
	s := &Server{tb: tb, bin: bin, dir: tb.TempDir()}
	tb.Cleanup(s.stop)
	// Another process may take the free port before redis-server binds it.
	var err error
	for range 3 {
		var port int
		if port, err = freePort(); err != nil {
			break
		}
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if err = s.run(); err == nil {
			return s
		}
	}
	tb.Fatalf("redistest: starting %s: %v", bin, err)
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// run starts redis-server on s.Addr and waits until it answers PING.
func (s *Server) run() error {
	_, port, _ := net.SplitHostPort(s.Addr)
	logfile := filepath.Join(s.dir, "redis.log")
	cmd := exec.Command(s.bin,
		"--port", port, "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no",
		"--dir", s.dir, "--logfile", logfile)
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return err
	}
	s.cmd, s.exited = cmd, make(chan struct{})
	go func() {
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()

	deadline := time.Now().Add(startTimeout)
	for {
		err := ping(s.Addr, 200*time.Millisecond)
		if err == nil {
			return nil
		}
		select {
		case <-s.exited:
			log, _ := os.ReadFile(logfile)
			return fmt.Errorf("redis-server exited: %v\n%s", s.waitErr, log)
		default:
		}
		if time.Now().After(deadline) {
			s.stop()
			return fmt.Errorf("no answer on %s after %v: %w", s.Addr, startTimeout, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ping sends PING to addr and checks the answer.
func ping(addr string, timeout time.Duration) error {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("PING answered %q", strings.TrimSpace(line))
	}
	return nil
}

// stop kills the private server, if it runs, and waits for it to exit.
func (s *Server) stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
	s.cmd = nil
}

// Kill kills the private server at once (SIGKILL), as a crash would. Its
// data is lost.
func (s *Server) Kill() {
	s.tb.Helper()
	if !s.Private() {
		s.tb.Fatal("redistest: Kill of a shared server; use NewPrivate")
	}
	s.stop()
}

// Restart starts the private server again, empty, on the same address,
// after Kill, and waits until it answers.
func (s *Server) Restart() {
	s.tb.Helper()
	if !s.Private() {
		s.tb.Fatal("redistest: Restart of a shared server; use NewPrivate")
	}
	s.stop()
	if err := s.run(); err != nil {
		s.tb.Fatalf("redistest: restarting redis-server: %v", err)
	}
}

// Options returns client options for the server with short timeouts and
// no retries, so that a test against a dead server fails fast.
func (s *Server) Options() *redis.Options {
	return &redis.Options{
		Addr:            s.Addr,
		DialTimeout:     time.Second,
		DialerRetries:   1,
		ReadTimeout:     time.Second,
		WriteTimeout:    time.Second,
		PoolTimeout:     time.Second,
		MaxRetries:      -1,
		DisableIdentity: true,
	}
}

// Client returns a client for the server with Options, closed when tb
// ends.
func (s *Server) Client(tb testing.TB) *redis.Client {
	tb.Helper()
	c := redis.NewClient(s.Options())
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// Prefix returns a key prefix no other test uses, "ebayauth-test:<random>:".
// On a shared server, the keys under it are deleted when tb ends.
func (s *Server) Prefix(tb testing.TB) string {
	tb.Helper()
	b := make([]byte, 8)
	_, _ = rand.Read(b) // never fails
	prefix := "ebayauth-test:" + hex.EncodeToString(b) + ":"
	if !s.Private() {
		tb.Cleanup(func() { s.deletePrefix(tb, prefix) })
	}
	return prefix
}

func (s *Server) deletePrefix(tb testing.TB, prefix string) {
	c := redis.NewClient(s.Options())
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	iter := c.Scan(ctx, 0, prefix+"*", 100).Iterator()
	for iter.Next(ctx) {
		if err := c.Del(ctx, iter.Val()).Err(); err != nil && !errors.Is(err, redis.Nil) {
			tb.Logf("redistest: deleting %s: %v", iter.Val(), err)
		}
	}
	if err := iter.Err(); err != nil {
		tb.Logf("redistest: listing keys under %s: %v", prefix, err)
	}
}
