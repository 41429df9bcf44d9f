package fleet_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/ebaytest"
	"github.com/ebayauth/ebayauth/internal/redistest"
	"github.com/ebayauth/ebayauth/pgstore"
)

// TestFleetSellersOneMintPerSellerRotation: eight processes, each with its
// own Accounts, keep 1,000 sellers' accounts in PostgreSQL and their access
// tokens in Redis, and ask for every seller's token in each of three token
// lifetimes: eBay mints exactly one token per seller per rotation.
//
// The processes judge expiry by the real clock, so the rotations take real
// time: tokens live 12 s here, and the test waits out each lifetime.
func TestFleetSellersOneMintPerSellerRotation(t *testing.T) {
	const processes, sellers, rotations, lifetime = 8, 1000, 3, 12 * time.Second
	ctx := context.Background()
	fake := ebaytest.NewServer()
	t.Cleanup(fake.Close)
	fake.SetTokenLifetime(lifetime)
	redis := redistest.New(t)
	prefix := redis.Prefix(t)

	dsn, schema := os.Getenv("EBAYAUTH_PG_DSN"), "fleet_"+randomHex(6)
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	seal := randomHex(32)
	sealKey, _ := hex.DecodeString(seal)
	store, err := pgstore.Open(ctx, dsn, pgstore.WithSealKey(sealKey), pgstore.WithSchema(schema))
	if err != nil {
		t.Fatalf("PostgreSQL at %s: %v (CI starts it; locally: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start)", dsn, err)
	}
	t.Cleanup(func() {
		store.Close()
		if c, err := pgx.Connect(ctx, dsn); err == nil {
			c.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
			c.Close(ctx)
		}
	})
	for i := range sellers {
		if err := store.SaveAccount(ctx, &ebayauth.Account{ID: fmt.Sprintf("seller-%04d", i), RefreshToken: fake.IssueRefreshToken()}); err != nil {
			t.Fatal(err)
		}
	}

	bin := filepath.Join(t.TempDir(), "sellers")
	if out, err := exec.Command("go", "build", "-o", bin, "./internal/sellers").CombinedOutput(); err != nil {
		t.Fatalf("go build ./internal/sellers: %v\n%s", err, out)
	}
	type proc struct {
		cmd   *exec.Cmd
		in    io.WriteCloser
		lines *bufio.Scanner
	}
	procs := make([]*proc, processes)
	for i := range procs {
		cmd := exec.Command(bin, "-ebay", fake.URL, "-redis", "redis://"+redis.Addr+"/0", "-prefix", prefix,
			"-database", dsn, "-schema", schema, "-seal", seal, "-offset", fmt.Sprint(i*sellers/processes))
		in, _ := cmd.StdinPipe()
		out, _ := cmd.StdoutPipe()
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		p := &proc{cmd, in, bufio.NewScanner(out)}
		procs[i] = p
		t.Cleanup(func() {
			p.in.Close()
			if err := p.cmd.Wait(); err != nil {
				t.Errorf("process %d: %v\n%s", i, err, stderr.String())
			}
		})
	}
	expect := func(p *proc, prefix string) string {
		t.Helper()
		if !p.lines.Scan() || !strings.HasPrefix(p.lines.Text(), prefix) {
			t.Fatalf("a process said %q; want %q", p.lines.Text(), prefix)
		}
		return p.lines.Text()
	}
	for _, p := range procs {
		expect(p, "ready")
	}
	for rotation := 1; rotation <= rotations; rotation++ {
		start := time.Now()
		for _, p := range procs {
			io.WriteString(p.in, "go\n")
		}
		for i, p := range procs {
			if line := expect(p, "done"); line != "done 0" {
				t.Errorf("rotation %d, process %d: %s", rotation, i, line)
			}
		}
		took := time.Since(start)
		if got, want := fake.Mints(ebaytest.GrantRefreshToken), rotation*sellers; got != want {
			t.Fatalf("after rotation %d (%v): %d mints; want %d, one per seller per rotation", rotation, took.Round(time.Millisecond), got, want)
		}
		t.Logf("rotation %d: %d sellers × %d processes in %v", rotation, sellers, processes, took.Round(time.Millisecond))
		if rotation < rotations {
			// Every token of this rotation, minted at most took after start,
			// must have expired on the processes' real clock.
			<-time.After(time.Until(start.Add(lifetime + took + 500*time.Millisecond)))
		}
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
