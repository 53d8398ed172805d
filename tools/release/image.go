package main

import (
	"fmt"
	"regexp"
	"runtime"
	"strings"
)

var goVersionRE = regexp.MustCompile(`^go([0-9]+\.[0-9]+(\.[0-9]+)?)$`)

// goImageVersion is the tag of the golang image matching the toolchain
// running this program (go run uses the module's toolchain), so that the
// image's binary is compiled by the same Go as the archives'.
func goImageVersion() (string, error) {
	m := goVersionRE.FindStringSubmatch(runtime.Version())
	if m == nil {
		return "", fmt.Errorf("toolchain %s has no golang image: run a released Go", runtime.Version())
	}
	return m[1], nil
}

// imageScript is a POSIX shell script that builds (and with push, pushes)
// every image variant for every platform with docker buildx, the OCI
// labels set through the Dockerfile's build arguments and repeated as
// annotations of the multi-platform index, where registries read them. It
// runs from the repository root, the build context.
func (r *release) imageScript(push bool) (string, error) {
	goVersion, err := goImageVersion()
	if err != nil {
		return "", err
	}
	im := r.cfg.Image
	var b strings.Builder
	fmt.Fprintf(&b, "#!/bin/sh\n# The images of %s, written by `go run ./tools/release image`.\n", r.Version)
	fmt.Fprintf(&b, "# Run from the repository root with a buildx builder for %s\n", strings.Join(im.Platforms, ","))
	b.WriteString("# (docker/setup-buildx-action, and QEMU for the RUN of the alpine stage).\nset -eu\n")
	args := r.cfg.buildArgs(r.BuildValues, goVersion)
	values := map[string]string{}
	for _, a := range args {
		values[a.Name] = a.Value
	}
	for _, v := range im.Variants {
		cmd := []string{"docker", "buildx", "build",
			"--file", im.Dockerfile,
			"--target", v.Target,
			"--platform", strings.Join(im.Platforms, ","),
		}
		for _, a := range args {
			cmd = append(cmd, "--build-arg", a.Name+"="+a.Value)
		}
		for _, l := range ociLabels {
			cmd = append(cmd, "--annotation", "index:"+l.Key+"="+values[l.Arg])
		}
		cmd = append(cmd, "--sbom=true", "--tag", im.Name+":"+r.Version+v.Suffix)
		if push {
			cmd = append(cmd, "--push")
		}
		cmd = append(cmd, ".")
		b.WriteString("\n")
		for i, a := range cmd {
			switch {
			case i == 0:
			case strings.HasPrefix(a, "--") || a == ".":
				b.WriteString(" \\\n  ")
			default:
				b.WriteString(" ")
			}
			b.WriteString(shellQuote(a))
		}
		b.WriteString("\n")
	}
	return b.String(), nil
}

var shellSafeRE = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	if shellSafeRE.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
