package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// ociLabels maps each OCI annotation the images carry to the build
// argument that sets it (https://github.com/opencontainers/image-spec/blob/main/annotations.md).
var ociLabels = []struct{ Key, Arg string }{
	{"org.opencontainers.image.title", "TITLE"},
	{"org.opencontainers.image.description", "DESCRIPTION"},
	{"org.opencontainers.image.version", "VERSION"},
	{"org.opencontainers.image.revision", "COMMIT"},
	{"org.opencontainers.image.created", "DATE"},
	{"org.opencontainers.image.source", "SOURCE"},
	{"org.opencontainers.image.licenses", "LICENSES"},
}

// buildArgs are the Dockerfile's build arguments for one release.
func (c *Config) buildArgs(v BuildValues, goVersion string) []struct{ Name, Value string } {
	return []struct{ Name, Value string }{
		{"GO_VERSION", goVersion},
		{"VERSION", v.Version},
		{"COMMIT", v.Commit},
		{"DATE", v.Date},
		{"TITLE", c.Image.Title},
		{"DESCRIPTION", c.Image.Description},
		{"SOURCE", c.Image.Source},
		{"LICENSES", c.Image.Licenses},
	}
}

var (
	fromRE = regexp.MustCompile(`(?i)^FROM\s+.*\s+AS\s+(\S+)\s*$`)
	argRE  = regexp.MustCompile(`(?i)^ARG\s+(.+)$`)
)

// dockerfile is a Dockerfile cut into what the check needs: its global
// ARG defaults, its named stages, and its instructions (continuation lines
// joined, whitespace collapsed).
type dockerfile struct {
	globalArgs map[string]string
	stages     map[string][]string // name → instructions, FROM first
	all        string
}

func parseDockerfile(text string) dockerfile {
	d := dockerfile{globalArgs: map[string]string{}, stages: map[string][]string{}}
	var current string
	var lines []string
	for _, raw := range strings.Split(strings.ReplaceAll(text, "\\\n", " "), "\n") {
		line := strings.Join(strings.Fields(raw), " ")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		lines = append(lines, line)
		if m := fromRE.FindStringSubmatch(line); m != nil {
			current = m[1]
		} else if strings.HasPrefix(strings.ToUpper(line), "FROM ") {
			current = "\x00unnamed"
		}
		if current == "" {
			if m := argRE.FindStringSubmatch(line); m != nil {
				for _, decl := range splitArgs(m[1]) {
					name, val, _ := strings.Cut(decl, "=")
					d.globalArgs[name] = val
				}
			}
			continue
		}
		d.stages[current] = append(d.stages[current], line)
	}
	d.all = strings.Join(lines, "\n")
	return d
}

// splitArgs splits `A=1 B="two words" C` into its declarations, quotes
// removed.
func splitArgs(s string) []string {
	var out []string
	var b strings.Builder
	quote := rune(0)
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote == 0 && (r == '"' || r == '\''):
			quote = r
		case quote == 0 && r == ' ':
			if b.Len() > 0 {
				out = append(out, b.String())
				b.Reset()
			}
		default:
			b.WriteRune(r)
		}
	}
	if b.Len() > 0 {
		out = append(out, b.String())
	}
	return out
}

// declares reports whether the instructions declare the argument name.
func declares(instructions []string, name string) bool {
	for _, in := range instructions {
		if m := argRE.FindStringSubmatch(in); m != nil {
			for _, decl := range splitArgs(m[1]) {
				if n, _, _ := strings.Cut(decl, "="); n == name {
					return true
				}
			}
		}
	}
	return false
}

// checkDockerfile checks that the Dockerfile builds what release.yaml
// says: every variant's stage exists and carries every OCI label from its
// build argument (declared in the stage, since an ARG before FROM is not
// seen inside one); the label defaults match the configuration, so a
// plain `docker build` is labelled too; the build is static, -trimpath
// and uses the same linker flags as the archives.
func (c *Config) checkDockerfile(root, path string) error {
	b, err := os.ReadFile(filepath.Join(root, path))
	if err != nil {
		return fmt.Errorf("image.dockerfile: %w", err)
	}
	d := parseDockerfile(string(b))
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{path}, a...)...))
	}

	for _, arg := range c.buildArgs(BuildValues{}, "") {
		if _, ok := d.globalArgs[arg.Name]; !ok {
			bad("no ARG %s before the first FROM (the release passes it)", arg.Name)
		}
	}
	for _, want := range []struct{ arg, value string }{
		{"TITLE", c.Image.Title}, {"DESCRIPTION", c.Image.Description},
		{"SOURCE", c.Image.Source}, {"LICENSES", c.Image.Licenses},
	} {
		if got, ok := d.globalArgs[want.arg]; ok && got != want.value {
			bad("ARG %s defaults to %q, release.yaml says %q", want.arg, got, want.value)
		}
	}
	for _, v := range c.Image.Variants {
		stage, ok := d.stages[v.Target]
		if !ok {
			bad("no stage %q (image.variants)", v.Target)
			continue
		}
		text := strings.Join(stage, "\n")
		for _, l := range ociLabels {
			re := regexp.MustCompile(regexp.QuoteMeta(l.Key) + `="?\$\{?` + l.Arg + `\}?"?(\s|$)`)
			if !re.MatchString(text) {
				bad("stage %s: no LABEL %s=\"${%s}\"", v.Target, l.Key, l.Arg)
			} else if !declares(stage, l.Arg) {
				bad("stage %s: label %s uses ${%s}, which the stage does not declare with ARG", v.Target, l.Key, l.Arg)
			}
		}
	}
	flags, err := c.ldflagList(BuildValues{Version: "${VERSION}", Commit: "${COMMIT}", Date: "${DATE}"})
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, f := range flags {
		if !strings.Contains(d.all, f) {
			bad("go build lacks the linker flags %q of release.yaml", f)
		}
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath"} {
		if !strings.Contains(d.all, want) {
			bad("go build lacks %s", want)
		}
	}
	return errors.Join(errs...)
}
