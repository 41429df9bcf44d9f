package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
)

// TestMain lets the test binary play the fake-eBay child process the
// memory and fleet scenarios start.
func TestMain(m *testing.M) {
	if os.Getenv(fakeEnv) != "" {
		os.Exit(serveFake(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestQuick runs every scenario once in quick mode, so that they keep
// working; it checks the table's shape, never a number.
func TestQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for seconds")
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"-quick", "-v"}, &stdout, &stderr); code != 0 {
		t.Fatalf("run -quick: exit %d; stderr:\n%s", code, stderr.String())
	}
	t.Logf("stderr:\n%s", stderr.String())
	out := stdout.String()
	for _, s := range scenarios {
		if !strings.Contains(out, "| "+s.name+" |") {
			t.Errorf("table has no %s row:\n%s", s.name, out)
		}
	}
}

func TestRunUsage(t *testing.T) {
	for _, args := range [][]string{{"-nope"}, {"extra"}, {"-only", "nope"}} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr); code != 2 {
			t.Errorf("run %q: exit %d; want 2", args, code)
		}
	}
}
