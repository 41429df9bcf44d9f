package filestore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/internal/logtest"
	"github.com/ebayauth/ebayauth/storetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func newStore(t *testing.T, opts ...Option) *Store {
	t.Helper()
	s, err := New(filepath.Join(t.TempDir(), "tokens.json"), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) ebayauth.Store { return newStore(t) })
}

// TestConformanceSharedFile runs the suite with a new Store on one file in
// each subtest, as separate processes would have.
func TestConformanceSharedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.json")
	storetest.Run(t, func(t *testing.T) ebayauth.Store {
		s, err := New(path)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestTwoStoresOneFile(t *testing.T) {
	ctx := context.Background()
	a := newStore(t)
	b, err := New(a.Path())
	if err != nil {
		t.Fatal(err)
	}
	key := storetest.Key(t)
	unlock, err := a.Lock(ctx, key, time.Minute)
	if err != nil {
		t.Fatalf("a.Lock: %v", err)
	}
	if _, err := b.Lock(ctx, key, time.Minute); !errors.Is(err, ebayauth.ErrLocked) {
		t.Fatalf("b.Lock of a key a holds: %v; want ErrLocked", err)
	}
	rec := storetest.NewRecord(time.Now().Add(time.Hour))
	if err := a.Save(ctx, key, rec); err != nil {
		t.Fatal(err)
	}
	got, err := b.Load(ctx, key)
	if err != nil {
		t.Fatalf("b.Load: %v", err)
	}
	if d := storetest.Diff(rec, got); d != "" {
		t.Errorf("b.Load: diff (-want +got):\n%s", d)
	}
	if err := unlock(ctx); err != nil {
		t.Fatal(err)
	}
	unlock, err = b.Lock(ctx, key, time.Minute)
	if err != nil {
		t.Fatalf("b.Lock after a unlocked: %v", err)
	}
	if err := unlock(ctx); err != nil {
		t.Fatal(err)
	}
}

// The helper process: TestProcesses runs the test binary again with these
// variables set, and TestHelperProcess then plays one of the processes.
const (
	envHelperPath = "EBAYAUTH_FILESTORE_HELPER_PATH"
	envHelperID   = "EBAYAUTH_FILESTORE_HELPER_ID"
	helperSaves   = 50
	counterKey    = "000000000000000000000000c0a7e700" // 32 hex digits, as ebayauth's keys
)

// counterBase is the expiry of the counter's count 0.
var counterBase = time.Date(2040, 3, 1, 9, 0, 0, 0, time.UTC)

func helperKey(proc, i int) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "process %d token %d", proc, i))
	return hex.EncodeToString(sum[:16])
}

// helperRecord is the record process proc saves as its ith. Its expiry is
// far from today's, which the store does not judge.
func helperRecord(proc, i int) *ebayauth.Record {
	exp := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second)
	return &ebayauth.Record{
		Token: &ebayauth.Token{
			AccessToken:  fmt.Sprintf("v^1.1#i^1#p^%d#t^%d+/=", proc, i),
			TokenType:    "User Access Token",
			Expiry:       exp,
			RefreshToken: fmt.Sprintf("refresh^%d#%d", proc, i),
		},
		Minted:    exp.Add(-2 * time.Hour),
		Validated: exp.Add(-time.Hour),
	}
}

// TestHelperProcess is not a test: it is one of the processes of
// TestProcesses. It saves helperSaves records and, as many times, increments
// a counter kept in the access token under counterKey while holding the
// store's lock, so that two processes that did not exclude each other would
// lose an increment.
func TestHelperProcess(t *testing.T) {
	path := os.Getenv(envHelperPath)
	if path == "" {
		t.Skip("run by TestProcesses")
	}
	proc, err := strconv.Atoi(os.Getenv(envHelperID))
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range helperSaves {
		if err := s.Save(ctx, helperKey(proc, i), helperRecord(proc, i)); err != nil {
			t.Fatalf("Save #%d: %v", i, err)
		}
		unlock := lockWithin(t, s, counterKey)
		n := 0
		switch rec, err := s.Load(ctx, counterKey); {
		case errors.Is(err, ebayauth.ErrNotFound):
		case err != nil:
			t.Fatalf("Load counter: %v", err)
		default:
			if n, err = strconv.Atoi(rec.Token.AccessToken); err != nil {
				t.Fatalf("counter %q: %v", rec.Token.AccessToken, err)
			}
		}
		n++
		// Each count expires later than the one before, so that it
		// replaces it.
		next := &ebayauth.Record{Token: &ebayauth.Token{AccessToken: strconv.Itoa(n), Expiry: counterBase.Add(time.Duration(n) * time.Second)}}
		if err := s.Save(ctx, counterKey, next); err != nil {
			t.Fatalf("Save counter: %v", err)
		}
		if err := unlock(ctx); err != nil {
			t.Fatalf("unlock: %v", err)
		}
	}
}

// lockWithin polls s until it grants the lock on key, for at most a minute.
func lockWithin(t *testing.T, s *Store, key string) func(context.Context) error {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		unlock, err := s.Lock(context.Background(), key, time.Minute)
		if err == nil {
			return unlock
		}
		if !errors.Is(err, ebayauth.ErrLocked) || time.Now().After(deadline) {
			t.Fatalf("Lock: %v", err)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestProcesses runs two processes that share a file: neither loses the
// other's records, and the lock excludes the other process.
func TestProcesses(t *testing.T) {
	const procs = 2
	path := filepath.Join(t.TempDir(), "tokens.json")
	type result struct {
		out []byte
		err error
	}
	results := make([]result, procs)
	var wg sync.WaitGroup
	for p := range procs {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), envHelperPath+"="+path, envHelperID+"="+strconv.Itoa(p))
		wg.Go(func() {
			out, err := cmd.CombinedOutput()
			results[p] = result{out, err}
		})
	}
	wg.Wait()
	for p, r := range results {
		if r.err != nil || !strings.Contains(string(r.out), "--- PASS: TestHelperProcess") {
			t.Fatalf("process %d: %v\n%s", p, r.err, r.out)
		}
	}

	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(b) {
		t.Fatalf("file is not valid JSON:\n%s", b)
	}
	s, err := New(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for p := range procs {
		for i := range helperSaves {
			got, err := s.Load(ctx, helperKey(p, i))
			if err != nil {
				t.Errorf("record %d of process %d: %v", i, p, err)
				continue
			}
			if d := storetest.Diff(helperRecord(p, i), got); d != "" {
				t.Errorf("record %d of process %d: diff (-want +got):\n%s", i, p, d)
			}
		}
	}
	counter, err := s.Load(ctx, counterKey)
	if err != nil {
		t.Fatalf("counter: %v", err)
	}
	if want := strconv.Itoa(procs * helperSaves); counter.Token.AccessToken != want {
		t.Errorf("counter = %s; want %s (increments made under the lock were lost)", counter.Token.AccessToken, want)
	}
}

// warnings counts the warnings rec kept.
func warnings(rec *logtest.Recorder) int {
	n := 0
	for _, l := range rec.Lines() {
		if strings.HasPrefix(l, "WARN ") {
			n++
		}
	}
	return n
}

func TestCorruptFile(t *testing.T) {
	tests := []struct {
		name    string
		content string
		warn    bool
	}{
		{"Garbage", "this is not JSON v^1.1#secret", true},
		{"Truncated", `{"records": {"abc": {"token": {"access_token": "v^1.1#sec`, true},
		{"WrongShape", `{"records": 5}`, true},
		{"WrongRecordShape", `{"records": {"abc": {"token": "v^1.1#secret"}}}`, true},
		// A file of the version before records: valid JSON with none.
		{"TokensNotRecords", `{"tokens": {"abc": {"access_token": "v^1.1#secret", "expiry": "2100-01-01T00:00:00Z"}}}`, false},
		{"Array", `[1, 2, 3]`, true},
		{"Binary", "\x00\xff\xfe\x01", true},
		{"Empty", "", false},
		{"Blank", "\n  \n", false},
		{"Null", "null", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			rec := &logtest.Recorder{}
			s := newStore(t, WithLogger(slog.New(rec)))
			if err := os.WriteFile(s.Path(), []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			key := storetest.Key(t)
			if got, err := s.Load(ctx, key); !errors.Is(err, ebayauth.ErrNotFound) {
				t.Fatalf("Load from a corrupt file = %v, %v; want ErrNotFound", got, err)
			}
			if got := warnings(rec) > 0; got != tt.warn {
				t.Errorf("warned: %v; want %v", got, tt.warn)
			}
			unlock, err := s.Lock(ctx, key, time.Minute)
			if err != nil {
				t.Fatalf("Lock on a corrupt file: %v", err)
			}
			if err := unlock(ctx); err != nil {
				t.Fatal(err)
			}
			want := storetest.NewRecord(time.Now().Add(time.Hour))
			if err := s.Save(ctx, key, want); err != nil {
				t.Fatalf("Save over a corrupt file: %v", err)
			}
			got, err := s.Load(ctx, key)
			if err != nil {
				t.Fatalf("Load after Save: %v", err)
			}
			if d := storetest.Diff(want, got); d != "" {
				t.Errorf("Load after Save: diff (-want +got):\n%s", d)
			}
			b, err := os.ReadFile(s.Path())
			if err != nil {
				t.Fatal(err)
			}
			if !json.Valid(b) {
				t.Errorf("file after Save is not JSON:\n%s", b)
			}
			if strings.Contains(string(b), "secret") {
				t.Errorf("file after Save still holds what was there before")
			}
			for _, l := range rec.Lines() {
				if strings.Contains(l, "secret") {
					t.Errorf("warning quotes the file: %s", l)
				}
			}
		})
	}
}

func TestFileMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix file modes")
	}
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "new", "dir")
	path := filepath.Join(dir, "tokens.json")
	s, err := New(path)
	if err != nil {
		t.Fatal(err)
	}
	wantMode := func(path string, want os.FileMode) {
		t.Helper()
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("mode of %s = %v; want %v", path, got, want)
		}
	}
	wantMode(dir, 0o700)
	if err := s.Save(ctx, storetest.Key(t), storetest.NewRecord(time.Now().Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	wantMode(path, 0o600)
	wantMode(path+".lock", 0o600)

	// A file made readable by others is replaced by a private one.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, storetest.Key(t), storetest.NewRecord(time.Now().Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	wantMode(path, 0o600)

	// No temporary file is left behind.
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if n := e.Name(); n != "tokens.json" && n != "tokens.json.lock" {
			t.Errorf("stray file %s", n)
		}
	}
}

// TestFileFormat checks the names the file uses, which other tools may read
// (those the package documentation shows, and the token's as they were
// before records), that deleted records and released locks leave the
// file, and that an expired record does not: the store judges no expiry.
func TestFileFormat(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	key, gone, expired, locked := storetest.Key(t), storetest.Key(t), storetest.Key(t), storetest.Key(t)
	exp := time.Date(2100, 1, 2, 3, 4, 5, 0, time.UTC)
	rec := &ebayauth.Record{
		Token: &ebayauth.Token{
			AccessToken: "at", TokenType: "User Access Token", Expiry: exp,
			RefreshToken: "rt", RefreshTokenExpiry: exp.Add(time.Hour),
		},
		Minted:             exp.Add(-2 * time.Hour),
		RefreshTokenExpiry: exp.Add(time.Hour),
		Validated:          exp.Add(-time.Hour),
	}
	if err := s.Save(ctx, key, rec); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, gone, storetest.NewRecord(time.Now().Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, gone); err != nil {
		t.Fatal(err)
	}
	// Expired years ago by the wall clock: the store keeps it all the same,
	// through the writes that follow.
	old := storetest.NewRecord(time.Date(2020, 3, 1, 9, 0, 0, 0, time.UTC))
	if err := s.Save(ctx, expired, old); err != nil {
		t.Fatal(err)
	}
	unlock, err := s.Lock(ctx, locked, time.Minute)
	if err != nil {
		t.Fatal(err)
	}

	// Decoded into maps, not structs: encoding/json matches struct fields
	// case-insensitively, and the names are what is checked.
	var d map[string]map[string]map[string]any
	read := func() {
		t.Helper()
		b, err := os.ReadFile(s.Path())
		if err != nil {
			t.Fatal(err)
		}
		d = nil
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%v\n%s", err, b)
		}
	}
	read()
	got := d["records"][key]
	tok, _ := got["token"].(map[string]any)
	for name, want := range map[string]string{
		"access_token": "at", "token_type": "User Access Token", "expiry": "2100-01-02T03:04:05Z",
		"refresh_token": "rt", "refresh_token_expiry": "2100-01-02T04:04:05Z",
	} {
		if v, ok := tok[name]; !ok || v != want {
			t.Errorf("records[key].token[%q] = %v (present: %v); want %q; the token holds %v", name, v, ok, want, tok)
		}
	}
	for name, want := range map[string]string{
		"minted": "2100-01-02T01:04:05Z", "validated": "2100-01-02T02:04:05Z",
	} {
		if v, ok := got[name]; !ok || v != want {
			t.Errorf("records[key][%q] = %v (present: %v); want %q; the record holds %v", name, v, ok, want, got)
		}
	}
	if _, ok := d["records"][gone]; ok {
		t.Errorf("a deleted record is still in the file")
	}
	if l := d["locks"][locked]; l["holder"] == "" || l["holder"] == nil || l["until"] == nil {
		t.Errorf("locks[key] = %v; want a holder and a deadline", l)
	}
	if err := unlock(ctx); err != nil {
		t.Fatal(err)
	}
	read()
	if _, ok := d["locks"][locked]; ok {
		t.Errorf("a released lock is still in the file")
	}
	if _, ok := d["records"][expired]; !ok {
		t.Errorf("an expired record left the file; the store must keep it")
	}
	switch got, err := s.Load(ctx, expired); {
	case err != nil:
		t.Errorf("Load of an expired record: %v; want the record as saved", err)
	case storetest.Diff(old, got) != "":
		t.Errorf("Load of an expired record: diff (-want +got):\n%s", storetest.Diff(old, got))
	}
}

func TestNew(t *testing.T) {
	if _, err := New(""); err == nil {
		t.Error(`New("") succeeded; want an error`)
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(filepath.Join(file, "tokens.json")); err == nil {
		t.Error("New under a regular file succeeded; want an error")
	}
	s := newStore(t)
	if got, want := s.String(), "file:"+s.Path(); got != want {
		t.Errorf("String() = %q; want %q", got, want)
	}
	if !filepath.IsAbs(s.Path()) {
		t.Errorf("Path() = %q; want an absolute path", s.Path())
	}
}

func TestDefault(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache) // Unix but macOS
	t.Setenv("HOME", cache)           // macOS: $HOME/Library/Caches
	t.Setenv("LocalAppData", cache)   // Windows
	s, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "ebayauth", "tokens.json"); s.Path() != want {
		t.Errorf("Path() = %q; want %q", s.Path(), want)
	}
	if !strings.HasPrefix(s.Path(), cache) {
		t.Errorf("Path() = %q; want it under %q", s.Path(), cache)
	}
}
