package main

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"

	"go.yaml.in/yaml/v3"
)

// Config is release.yaml: what a release builds and which files must name
// its image.
type Config struct {
	Main      string        `yaml:"main"`
	Binary    string        `yaml:"binary"`
	LDFlags   []string      `yaml:"ldflags"`
	Targets   []string      `yaml:"targets"`
	Archive   ArchiveConfig `yaml:"archive"`
	Image     ImageConfig   `yaml:"image"`
	Manifests Manifests     `yaml:"manifests"`
}

// ArchiveConfig lists the files put next to the binary in each archive.
type ArchiveConfig struct {
	Files []string `yaml:"files"` // those missing are left out
}

// ImageConfig describes the container images and their OCI labels.
type ImageConfig struct {
	Name        string    `yaml:"name"` // without a tag
	Dockerfile  string    `yaml:"dockerfile"`
	Platforms   []string  `yaml:"platforms"`
	Variants    []Variant `yaml:"variants"`
	Title       string    `yaml:"title"`
	Description string    `yaml:"description"`
	Source      string    `yaml:"source"`
	Licenses    string    `yaml:"licenses"`
}

// Variant is one image: a final stage of the Dockerfile, tagged with the
// version followed by Suffix.
type Variant struct {
	Target string `yaml:"target"`
	Suffix string `yaml:"suffix"`
}

// Manifests are the deployment files whose images the check reads.
type Manifests struct {
	Kubernetes string   `yaml:"kubernetes"` // a directory of *.yaml
	Compose    []string `yaml:"compose"`
}

// BuildValues fill the ldflags templates.
type BuildValues struct {
	Version string
	Commit  string
	Date    string
}

// loadConfig reads release.yaml; an unknown key is an error, so that a
// misspelt one is not silently ignored.
func loadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read release configuration: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var c Config
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &c, nil
}

// versionRE is a semantic version with a leading v and no build metadata
// (a "+" cannot appear in an image tag).
var versionRE = regexp.MustCompile(`^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$`)

// readVersion reads the VERSION file at root: the version the next
// release tags (and the manifests name).
func readVersion(root string) (string, error) {
	b, err := os.ReadFile(filepath.Join(root, "VERSION"))
	if err != nil {
		return "", fmt.Errorf("read VERSION: %w", err)
	}
	v := strings.TrimSpace(string(b))
	if !versionRE.MatchString(v) {
		return "", fmt.Errorf("VERSION: %q is not a version like v1.2.3 or v1.2.3-rc.1", v)
	}
	return v, nil
}

// ldflags renders the linker flags for one build.
func (c *Config) ldflags(v BuildValues) (string, error) {
	l, err := c.ldflagList(v)
	return strings.Join(l, " "), err
}

// ldflagList renders each element of ldflags.
func (c *Config) ldflagList(v BuildValues) ([]string, error) {
	var out []string
	for _, f := range c.LDFlags {
		t, err := template.New("ldflags").Option("missingkey=error").Parse(f)
		if err != nil {
			return nil, fmt.Errorf("ldflags %q: %w", f, err)
		}
		var b strings.Builder
		if err := t.Execute(&b, v); err != nil {
			return nil, fmt.Errorf("ldflags %q: %w", f, err)
		}
		out = append(out, strings.Join(strings.Fields(b.String()), " "))
	}
	return out, nil
}

var (
	targetRE    = regexp.MustCompile(`^[a-z0-9]+/[a-z0-9]+$`)
	imageNameRE = regexp.MustCompile(`^[a-z0-9]+([._-][a-z0-9]+)*(\.[a-z0-9]+([._-][a-z0-9]+)*)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)+$`)
	suffixRE    = regexp.MustCompile(`^(-[a-z0-9]+)?$`)
)

// validate returns every problem of the configuration, joined: missing
// fields, malformed targets, linker flags that do not set the version,
// commit and date or set a variable that does not exist, and a Dockerfile
// that lacks a variant's stage, an OCI label or the linker flags.
func (c *Config) validate(root string) error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	if c.Binary == "" || strings.ContainsAny(c.Binary, `/\`) {
		bad("binary: %q must be a file name", c.Binary)
	}
	if c.Main == "" {
		bad("main: the package to build is missing")
	} else if err := isMainPackage(filepath.Join(root, c.Main)); err != nil {
		bad("main: %w", err)
	}
	if len(c.Targets) == 0 {
		bad("targets: none")
	}
	seen := map[string]bool{}
	for _, t := range c.Targets {
		if !targetRE.MatchString(t) {
			bad("targets: %q is not os/arch", t)
		}
		if seen[t] {
			bad("targets: %s twice", t)
		}
		seen[t] = true
	}

	errs = append(errs, c.validateLDFlags(root)...)

	im := c.Image
	if !imageNameRE.MatchString(im.Name) {
		bad("image.name: %q is not an image name without a tag (like ghcr.io/owner/name)", im.Name)
	}
	if len(im.Platforms) == 0 {
		bad("image.platforms: none")
	}
	for _, p := range im.Platforms {
		if !seen[p] {
			bad("image.platforms: %s is not among the targets", p)
		}
	}
	if len(im.Variants) == 0 {
		bad("image.variants: none")
	}
	suffixes := map[string]bool{}
	for _, v := range im.Variants {
		if v.Target == "" {
			bad("image.variants: a variant without a target")
		}
		if !suffixRE.MatchString(v.Suffix) {
			bad("image.variants: suffix %q must be empty or like -alpine", v.Suffix)
		}
		if suffixes[v.Suffix] {
			bad("image.variants: suffix %q twice", v.Suffix)
		}
		suffixes[v.Suffix] = true
	}
	for field, val := range map[string]string{"title": im.Title, "description": im.Description, "licenses": im.Licenses} {
		if strings.TrimSpace(val) == "" {
			bad("image.%s: missing", field)
		}
	}
	if u, err := url.Parse(im.Source); err != nil || u.Scheme != "https" || u.Host == "" {
		bad("image.source: %q is not an https URL", im.Source)
	}
	if im.Dockerfile == "" {
		bad("image.dockerfile: missing")
	} else if err := c.checkDockerfile(root, im.Dockerfile); err != nil {
		errs = append(errs, err)
	}

	if c.Manifests.Kubernetes == "" && len(c.Manifests.Compose) == 0 {
		bad("manifests: none listed")
	}
	return errors.Join(errs...)
}

// validateLDFlags checks that the templates parse, that they set the
// version, commit and date, and that every -X names a package-level
// string variable of this module: the linker ignores a -X whose variable
// does not exist, and the binary would say "dev".
func (c *Config) validateLDFlags(root string) []error {
	var errs []error
	if _, err := c.ldflags(BuildValues{Version: "v0.0.0", Commit: "c", Date: "d"}); err != nil {
		return []error{err}
	}
	joined := strings.Join(c.LDFlags, " ")
	for _, field := range []string{".Version", ".Commit", ".Date"} {
		if !strings.Contains(joined, "{{"+field+"}}") {
			errs = append(errs, fmt.Errorf("ldflags: {{%s}} is set nowhere", field))
		}
	}
	module, err := modulePath(root)
	if err != nil {
		return append(errs, err)
	}
	fields := strings.Fields(joined)
	for i, f := range fields {
		if f != "-X" {
			continue
		}
		if i+1 == len(fields) {
			errs = append(errs, fmt.Errorf("ldflags: -X without a value"))
			break
		}
		sym, _, ok := strings.Cut(fields[i+1], "=")
		dot := strings.LastIndex(sym, ".")
		if !ok || dot < 0 {
			errs = append(errs, fmt.Errorf("ldflags: -X %s is not importpath.name=value", fields[i+1]))
			continue
		}
		pkg, name := sym[:dot], sym[dot+1:]
		rel, inModule := strings.CutPrefix(pkg, module)
		if !inModule || (rel != "" && rel[0] != '/') {
			continue // another module's variable: not ours to look up
		}
		if err := hasStringVar(root, strings.TrimPrefix(rel, "/"), name); err != nil {
			errs = append(errs, fmt.Errorf("ldflags: -X %s: %w", sym, err))
		}
	}
	return errs
}

// modulePath reads the module path from root/go.mod.
func modulePath(root string) (string, error) {
	b, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return "", fmt.Errorf("read go.mod: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`), nil
		}
	}
	return "", errors.New("go.mod: no module line")
}

// parseDir parses the non-test Go files of dir.
func parseDir(dir string) ([]*ast.File, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	var files []*ast.File
	fset := token.NewFileSet()
	for _, n := range names {
		if strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, n, nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no Go files in %s", dir)
	}
	return files, nil
}

// isMainPackage reports whether dir holds package main.
func isMainPackage(dir string) error {
	files, err := parseDir(dir)
	if err != nil {
		return err
	}
	if files[0].Name.Name != "main" {
		return fmt.Errorf("%s is package %s, not main", dir, files[0].Name.Name)
	}
	return nil
}

// hasStringVar reports whether the package in root/dir declares a
// package-level variable name that -X can set: a string, without a
// non-constant initializer.
func hasStringVar(root, dir, name string) error {
	files, err := parseDir(filepath.Join(root, filepath.FromSlash(dir)))
	if err != nil {
		return err
	}
	for _, f := range files {
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.VAR {
				continue
			}
			for _, s := range g.Specs {
				vs := s.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if n.Name != name {
						continue
					}
					if id, ok := vs.Type.(*ast.Ident); vs.Type != nil && (!ok || id.Name != "string") {
						return fmt.Errorf("%s is not a string variable", name)
					}
					if i < len(vs.Values) {
						if lit, ok := vs.Values[i].(*ast.BasicLit); !ok || lit.Kind != token.STRING {
							return fmt.Errorf("%s is not initialized with a string literal, which -X needs", name)
						}
					}
					return nil
				}
			}
		}
	}
	return fmt.Errorf("no package-level variable %s in ./%s", name, dir)
}
