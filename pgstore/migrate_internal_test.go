package pgstore

import (
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

func TestReadMigrations(t *testing.T) {
	file := func(string) *fstest.MapFile { return &fstest.MapFile{Data: []byte("SELECT 1;")} }
	tests := []struct {
		name  string
		files []string
		want  string // in the error; "" for none
	}{
		{"InOrder", []string{"0001_a.sql", "0002_b.sql"}, ""},
		{"Gap", []string{"0001_a.sql", "0003_c.sql"}, "version 3; want 2"},
		{"NotFromOne", []string{"0002_b.sql"}, "version 2; want 1"},
		{"BadName", []string{"0001_a.sql", "2_b.sql"}, "want NNNN_name.sql"},
		{"None", nil, "none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for _, f := range tt.files {
				fsys["migrations/"+f] = file(f)
			}
			ms, err := readMigrations(fsys)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("readMigrations: %v", err)
			case tt.want == "" && len(ms) != len(tt.files):
				t.Errorf("readMigrations returned %d migrations; want %d", len(ms), len(tt.files))
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("readMigrations: %v; want an error saying %q", err, tt.want)
			}
		})
	}
	// The embedded ones read, and every table they make or index is in
	// the Store's schema.
	tableRef := regexp.MustCompile(`(?i)(?:CREATE TABLE|ALTER TABLE|INDEX \S+ ON)\s+(\S+)`)
	found := 0
	for _, m := range migrations {
		for _, ref := range tableRef.FindAllStringSubmatch(m.sql, -1) {
			found++
			if !strings.HasPrefix(ref[1], "{{schema}}.") {
				t.Errorf("%s: %q is not in {{schema}}", m.name, ref[0])
			}
		}
	}
	if found < 4 {
		t.Errorf("found %d tables and indexes in the migrations; want at least 4", found)
	}
}

func TestSealerOpensOnlyItsRow(t *testing.T) {
	s, err := newSealer(make([]byte, 32), nil)
	if err != nil {
		t.Fatal(err)
	}
	sealed := s.seal(tokensTable, "k1", []byte("secret"))
	if got, err := s.open(tokensTable, "k1", sealed); err != nil || string(got) != "secret" {
		t.Fatalf("open = %q, %v; want the plaintext", got, err)
	}
	for _, tt := range []struct{ table, key string }{{tokensTable, "k2"}, {accountsTable, "k1"}} {
		if _, err := s.open(tt.table, tt.key, sealed); err == nil {
			t.Errorf("a value sealed for tokens/k1 opens as %s/%s", tt.table, tt.key)
		}
	}
	// The key id in the header is bound too: rewriting it to another known
	// key's id does not help.
	two, err := newSealer(make([]byte, 32), [][]byte{make([]byte, 16)})
	if err != nil {
		t.Fatal(err)
	}
	other := keyID(make([]byte, 16))
	forged := append([]byte(nil), sealed...)
	copy(forged[1:headerLen], other[:])
	if _, err := two.open(tokensTable, "k1", forged); err == nil {
		t.Error("a value whose key id was rewritten opens")
	}
}
