package main

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionOf(t *testing.T) {
	tests := []struct {
		name string
		bi   *debug.BuildInfo
		want []string // lines of the text output
	}{
		{"release", &debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Path: "github.com/ebayauth/ebayauth", Version: "v1.4.0"},
			Settings: []debug.BuildSetting{{Key: "GOOS", Value: "linux"}, {Key: "GOARCH", Value: "arm64"}}},
			[]string{"ebaytoken v1.4.0 (github.com/ebayauth/ebayauth)", "revision unknown (not built from a VCS checkout)", "go1.26.1 linux/arm64"}},
		{"checkout", &debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Path: "github.com/ebayauth/ebayauth", Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "541e804abc"}, {Key: "vcs.time", Value: "2037-01-02T03:04:05Z"},
				{Key: "vcs.modified", Value: "true"}, {Key: "GOOS", Value: "linux"}, {Key: "GOARCH", Value: "amd64"}}},
			[]string{"ebaytoken (devel) (github.com/ebayauth/ebayauth)", "revision 541e804abc of 2037-01-02T03:04:05Z, with uncommitted changes", "go1.26.1 linux/amd64"}},
		{"clean checkout", &debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Path: "m", Version: "v0.0.0-20370102030405-541e804abc"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "541e804abc"}, {Key: "vcs.modified", Value: "false"}}},
			[]string{"ebaytoken v0.0.0-20370102030405-541e804abc (m)", "revision 541e804abc", "go1.26.1 "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			printVersion(&buf, versionOf(tt.bi))
			lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("got %q; want %q", lines, tt.want)
			}
			for i := range lines {
				if !strings.HasPrefix(lines[i], tt.want[i]) {
					t.Errorf("line %d: got %q; want %q", i, lines[i], tt.want[i])
				}
			}
		})
	}
	t.Run("no build info", func(t *testing.T) {
		if d := versionOf(nil); d.Version != "unknown" || d.Go == "" {
			t.Errorf("got %+v", d)
		}
	})
}

// TestVersionBinary: the built command reports what the toolchain
// stamped into it, as go version -m reads it.
func TestVersionBinary(t *testing.T) {
	bin := buildBinary(t)
	r := runProcess(t, bin, processEnv(nil), "version", "--json").want(t, 0)
	var d versionDoc
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
		t.Fatalf("%v\n%s", err, r)
	}
	out, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	stamped := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Split(strings.TrimSpace(line), "\t")
		switch {
		case len(f) >= 3 && f[0] == "mod":
			stamped["module"], stamped["version"] = f[1], f[2]
		case len(f) == 2 && f[0] == "build":
			if k, v, ok := strings.Cut(f[1], "="); ok {
				stamped[k] = v
			}
		}
	}
	for _, c := range []struct{ name, got, want string }{
		{"module", d.Module, stamped["module"]},
		{"version", d.Version, stamped["version"]},
		{"revision", d.Revision, stamped["vcs.revision"]},
		{"time", d.Time, stamped["vcs.time"]},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %q; want %q", c.name, c.got, c.want)
		}
	}
	if d.Module != "github.com/ebayauth/ebayauth" {
		t.Errorf("module %q", d.Module)
	}
	text := runProcess(t, bin, processEnv(nil), "version").want(t, 0)
	if !strings.HasPrefix(text.stdout, "ebaytoken "+d.Version) || (d.Revision != "" && !strings.Contains(text.stdout, d.Revision)) {
		t.Errorf("version:\n%s", text)
	}
}
