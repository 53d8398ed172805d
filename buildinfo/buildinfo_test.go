package buildinfo

import (
	"runtime"
	"strings"
	"testing"
)

func TestGetFillsEveryField(t *testing.T) {
	in := Get()
	if in.Version == "" || in.Commit == "" || in.Date == "" || in.GoVersion != runtime.Version() {
		t.Errorf("Get() = %+v: every field must be filled", in)
	}
}

func TestLinkerValuesWin(t *testing.T) {
	defer func(v, c, d string) { version, commit, date = v, c, d }(version, commit, date)
	version, commit, date = "v1.2.3", "0123456789abcdef0123", "2026-12-02T10:00:00Z"
	in := Get()
	if in.Version != "v1.2.3" || in.Commit != "0123456789abcdef0123" || in.Date != "2026-12-02T10:00:00Z" {
		t.Errorf("Get() = %+v", in)
	}
	s := in.String()
	for _, want := range []string{"v1.2.3", "commit 0123456789ab", "built 2026-12-02T10:00:00Z", runtime.Version()} {
		if !strings.Contains(s, want) {
			t.Errorf("String() = %q, lacks %q", s, want)
		}
	}
}
