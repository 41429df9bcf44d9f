package filestore

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ebayauth/ebayauth/storetest"
)

// Each test here failed before its fix: filestore followed a symlinked
// lock file, read a FIFO, and accepted a directory anyone could plant a
// token in.

func TestRefusesSymlinkedLockFile(t *testing.T) {
	dir := privateDir(t)
	elsewhere := filepath.Join(t.TempDir(), "victim")
	path := filepath.Join(dir, "tokens.json")
	if err := os.Symlink(elsewhere, path+".lock"); err != nil {
		t.Fatal(err)
	}
	s, err := New(path)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Save(context.Background(), storetest.Key(t), storetest.NewRecord(time.Now().Add(time.Hour)))
	if err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("Save through a symlinked lock file: %v; want it refused", err)
	}
	if _, err := os.Lstat(elsewhere); err == nil {
		t.Error("the symlink's target was created")
	}
}

func TestRefusesSymlinkedOrSpecialTokenFile(t *testing.T) {
	t.Run("symlink", func(t *testing.T) {
		dir := privateDir(t)
		planted := filepath.Join(t.TempDir(), "planted.json")
		if err := os.WriteFile(planted, []byte(`{"records":{}}`), 0o600); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "tokens.json")
		if err := os.Symlink(planted, path); err != nil {
			t.Fatal(err)
		}
		s, err := New(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Load(context.Background(), storetest.Key(t)); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("Load of a symlinked token file: %v; want it refused", err)
		}
	})
	t.Run("fifo", func(t *testing.T) {
		dir := privateDir(t)
		path := filepath.Join(dir, "tokens.json")
		if err := syscall.Mkfifo(path, 0o600); err != nil {
			t.Skipf("no FIFOs here: %v", err)
		}
		s, err := New(path)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			_, err := s.Load(context.Background(), storetest.Key(t))
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "not a regular file") {
				t.Errorf("Load of a FIFO: %v; want it refused", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Load blocked on a FIFO")
		}
	})
}

func TestRefusesWorldWritableDirectory(t *testing.T) {
	for _, mode := range []os.FileMode{0o777, 0o1777, 0o770} {
		dir := filepath.Join(t.TempDir(), "shared")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, mode); err != nil {
			t.Fatal(err)
		}
		if _, err := New(filepath.Join(dir, "tokens.json")); err == nil || !strings.Contains(err.Error(), "writable by others") {
			t.Errorf("mode %v: New = %v; want the directory refused", mode, err)
		}
	}
}

// TestImplausibleFileLockIsDead: a lock written under a clock a year
// ahead does not block minting for a year.
func TestImplausibleFileLockIsDead(t *testing.T) {
	s, err := New(filepath.Join(privateDir(t), "tokens.json"))
	if err != nil {
		t.Fatal(err)
	}
	key := storetest.Key(t)
	if err := s.change(context.Background(), func(d *fileData, now time.Time) bool {
		d.Locks = map[string]fileLock{key: {Holder: "skewed", Until: now.Add(365 * 24 * time.Hour)}}
		return true
	}); err != nil {
		t.Fatal(err)
	}
	unlock, err := s.Lock(context.Background(), key, 45*time.Second)
	if err != nil {
		t.Fatalf("Lock over a lease a year ahead: %v; want the lease treated as dead", err)
	}
	_ = unlock(context.Background())
}

func privateDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "private")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}
