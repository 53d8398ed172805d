// Package buildinfo says which build is running: the version, the commit
// and the build date, set by the release build with
//
//	go build -ldflags "-X github.com/committeebot/committeebot/buildinfo.version=v1.2.3
//	  -X github.com/committeebot/committeebot/buildinfo.commit=<sha>
//	  -X github.com/committeebot/committeebot/buildinfo.date=<RFC 3339>"
//
// and otherwise read from what the Go toolchain records in the binary (the
// module version, the VCS revision and time of a build in a checkout).
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Set at build time (see the package comment).
var (
	version = ""
	commit  = ""
	date    = ""
)

// Info describes the running build.
type Info struct {
	Version   string // v1.2.3, or "dev"
	Commit    string // full VCS revision, or "unknown"
	Date      string // build (or commit) time, RFC 3339, or "unknown"
	GoVersion string // go1.26.8
	Modified  bool   // built from a checkout with uncommitted changes
}

// Get returns the running build's Info.
func Get() Info {
	in := Info{Version: version, Commit: commit, Date: date, GoVersion: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if in.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			in.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if in.Commit == "" {
					in.Commit = s.Value
				}
			case "vcs.time":
				if in.Date == "" {
					in.Date = s.Value
				}
			case "vcs.modified":
				in.Modified = s.Value == "true"
			}
		}
	}
	if in.Version == "" {
		in.Version = "dev"
	}
	if in.Commit == "" {
		in.Commit = "unknown"
	}
	if in.Date == "" {
		in.Date = "unknown"
	}
	return in
}

// String is the one-line form `committeebot version` prints:
// "v1.2.3 (commit 0123abcd…, built 2026-12-02T10:00:00Z, go1.26.8)".
func (i Info) String() string {
	c := i.Commit
	if len(c) > 12 {
		c = c[:12]
	}
	if i.Modified {
		c += "+changes"
	}
	return i.Version + " (commit " + c + ", built " + i.Date + ", " + i.GoVersion + ")"
}
