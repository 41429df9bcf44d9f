package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// versionDoc is what version prints: the module's version and the VCS
// revision the binary was built from, as the Go toolchain stamped them.
type versionDoc struct {
	Module   string `json:"module,omitempty"`
	Version  string `json:"version"` // "(devel)", or "unknown" without build information
	Revision string `json:"revision,omitempty"`
	Time     string `json:"time,omitempty"` // of the revision, RFC 3339
	Modified bool   `json:"modified,omitempty"`
	Go       string `json:"go"`
	Platform string `json:"platform"`
}

// readBuildInfo is debug.ReadBuildInfo; tests replace it.
var readBuildInfo = debug.ReadBuildInfo

// versionOf reads bi (nil: none was embedded).
func versionOf(bi *debug.BuildInfo) versionDoc {
	d := versionDoc{Version: "unknown", Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi == nil {
		return d
	}
	d.Module, d.Version, d.Go = bi.Main.Path, bi.Main.Version, bi.GoVersion
	if d.Version == "" {
		d.Version = "unknown"
	}
	var goos, goarch string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			d.Revision = s.Value
		case "vcs.time":
			d.Time = s.Value
		case "vcs.modified":
			d.Modified = s.Value == "true"
		case "GOOS":
			goos = s.Value
		case "GOARCH":
			goarch = s.Value
		}
	}
	if goos != "" && goarch != "" {
		d.Platform = goos + "/" + goarch
	}
	return d
}

// version: print the module version and VCS revision.
func cmdVersion(_ context.Context, c *call) error {
	bi, ok := readBuildInfo()
	if !ok {
		bi = nil
	}
	d := versionOf(bi)
	return c.output(d, func(w io.Writer) { printVersion(w, d) })
}

func printVersion(w io.Writer, d versionDoc) {
	fmt.Fprintf(w, "ebaytoken %s", d.Version)
	if d.Module != "" {
		fmt.Fprintf(w, " (%s)", d.Module)
	}
	fmt.Fprintln(w)
	switch {
	case d.Revision != "":
		fmt.Fprintf(w, "revision %s", d.Revision)
		if d.Time != "" {
			fmt.Fprintf(w, " of %s", d.Time)
		}
		if d.Modified {
			fmt.Fprint(w, ", with uncommitted changes")
		}
		fmt.Fprintln(w)
	default:
		fmt.Fprintln(w, "revision unknown (not built from a VCS checkout)")
	}
	fmt.Fprintf(w, "%s %s\n", d.Go, d.Platform)
}
