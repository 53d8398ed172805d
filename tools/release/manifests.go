package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// imageRef is an image reference cut into its parts:
// name[:tag][@digest].
type imageRef struct {
	Name, Tag, Digest string
}

func parseImageRef(s string) imageRef {
	var r imageRef
	s, r.Digest, _ = strings.Cut(s, "@")
	// A colon after the last slash starts the tag; one before it is a
	// registry's port (localhost:5000/app).
	if i := strings.LastIndex(s, ":"); i > strings.LastIndex(s, "/") {
		s, r.Tag = s[:i], s[i+1:]
	}
	r.Name = s
	return r
}

func (r imageRef) String() string {
	s := r.Name
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest
	}
	return s
}

// pinned says what is wrong with an image reference that a deployment
// could not reproduce: no tag (which means latest) or latest itself. A
// digest pins an image whatever its tag.
func (r imageRef) pinned() error {
	switch {
	case r.Digest != "":
		return nil
	case r.Tag == "":
		return fmt.Errorf("%s has no tag, which means latest: name a version", r)
	case r.Tag == "latest":
		return fmt.Errorf("%s is tagged latest: name a version", r)
	}
	return nil
}

// imageUse is one place a manifest names an image.
type imageUse struct {
	Where string // file and object, for the message
	Ref   imageRef
	// BuildVersion is the VERSION build argument of a compose service
	// that can also build its image: the version a local build says.
	BuildVersion string
}

// checkManifests checks every image the deployment files name: each must
// be pinned (a version tag or a digest, never latest or no tag), and the
// release image must be tagged with the version (plus a variant's suffix).
// Both the Kubernetes directory and each compose file must run the release
// image at least once, so that a renamed image cannot pass unchecked.
func (c *Config) checkManifests(root, version string) error {
	var errs []error
	check := func(file string, uses []imageUse, err error) {
		if err != nil {
			errs = append(errs, err)
			return
		}
		found := false
		for _, u := range uses {
			ours := u.Ref.Name == c.Image.Name
			found = found || ours
			if err := u.Ref.pinned(); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", u.Where, err))
			} else if ours && !c.isReleaseTag(u.Ref.Tag, version) {
				errs = append(errs, fmt.Errorf("%s: %s, but VERSION is %s: name %s:%s%s", u.Where, u.Ref, version, c.Image.Name, version, c.suffixHint()))
			}
			if ours && u.BuildVersion != "" && u.BuildVersion != version {
				errs = append(errs, fmt.Errorf("%s: builds with VERSION %s, but VERSION is %s", u.Where, u.BuildVersion, version))
			}
		}
		if !found {
			errs = append(errs, fmt.Errorf("%s: runs no %s image", file, c.Image.Name))
		}
	}
	if dir := c.Manifests.Kubernetes; dir != "" {
		uses, err := kubernetesImages(filepath.Join(root, dir), dir)
		check(dir, uses, err)
	}
	for _, f := range c.Manifests.Compose {
		uses, err := composeImages(filepath.Join(root, f), f)
		check(f, uses, err)
	}
	return errors.Join(errs...)
}

// isReleaseTag reports whether tag is version followed by a variant's
// suffix.
func (c *Config) isReleaseTag(tag, version string) bool {
	for _, v := range c.Image.Variants {
		if tag == version+v.Suffix {
			return true
		}
	}
	return false
}

func (c *Config) suffixHint() string {
	var s []string
	for _, v := range c.Image.Variants {
		if v.Suffix != "" {
			s = append(s, v.Suffix)
		}
	}
	if len(s) == 0 {
		return ""
	}
	return " (or with " + strings.Join(s, ", ") + ")"
}

// yamlDocs decodes every document of a YAML file.
func yamlDocs(path string) ([]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var docs []any
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var d any
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if d != nil {
			docs = append(docs, d)
		}
	}
}

// kubernetesImages lists the images of the containers in every *.yaml of
// dir (init and ephemeral containers too), as the kustomization in dir
// rewrites them: its images: entries replace the name and the tag of the
// images they name, and are themselves checked.
func kubernetesImages(dir, rel string) ([]imageUse, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	more, _ := filepath.Glob(filepath.Join(dir, "*.yml"))
	files = append(files, more...)
	sort.Strings(files)
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no manifests", rel)
	}
	type rewrite struct{ newName, newTag, digest string }
	rewrites := map[string]rewrite{}
	var uses []imageUse
	for _, f := range files {
		docs, err := yamlDocs(f)
		if err != nil {
			return nil, err
		}
		base := filepath.Join(rel, filepath.Base(f))
		for _, d := range docs {
			m, _ := d.(map[string]any)
			if m["kind"] == "Kustomization" {
				list, _ := m["images"].([]any)
				for _, e := range list {
					em, _ := e.(map[string]any)
					name, _ := em["name"].(string)
					var rw rewrite
					rw.newName, _ = em["newName"].(string)
					rw.newTag, _ = em["newTag"].(string)
					rw.digest, _ = em["digest"].(string)
					rewrites[name] = rw
					ref := imageRef{Name: rw.newName, Tag: rw.newTag, Digest: rw.digest}
					if ref.Name == "" {
						ref.Name = name
					}
					if err := ref.pinned(); err != nil {
						return nil, fmt.Errorf("%s: images: %s: %w", base, name, err)
					}
				}
				continue
			}
			walkContainers(d, func(container, image string) {
				meta, _ := m["metadata"].(map[string]any)
				uses = append(uses, imageUse{
					Where: fmt.Sprintf("%s: %v %v, container %s", base, m["kind"], meta["name"], container),
					Ref:   parseImageRef(image),
				})
			})
		}
	}
	for i, u := range uses {
		rw, ok := rewrites[u.Ref.Name]
		if !ok {
			continue
		}
		if rw.newName != "" {
			uses[i].Ref.Name = rw.newName
		}
		if rw.newTag != "" {
			uses[i].Ref.Tag = rw.newTag
		}
		if rw.digest != "" {
			uses[i].Ref.Digest = rw.digest
		}
		uses[i].Where += " (with the kustomization's images:)"
	}
	return uses, nil
}

// walkContainers calls f for every entry of a containers, initContainers
// or ephemeralContainers list anywhere under v.
func walkContainers(v any, f func(name, image string)) {
	switch v := v.(type) {
	case map[string]any:
		for k, sub := range v {
			if k == "containers" || k == "initContainers" || k == "ephemeralContainers" {
				if list, ok := sub.([]any); ok {
					for _, e := range list {
						em, _ := e.(map[string]any)
						name, _ := em["name"].(string)
						image, _ := em["image"].(string)
						f(name, image)
					}
					continue
				}
			}
			walkContainers(sub, f)
		}
	case []any:
		for _, e := range v {
			walkContainers(e, f)
		}
	}
}

// composeImages lists the image of every service of a compose file, its
// variables replaced by their defaults (${NAME:-default}). A service
// without an image runs one compose names <project>-<service>:latest,
// and a variable without a default leaves the tag to whoever runs it:
// both are errors.
func composeImages(path, rel string) ([]imageUse, error) {
	docs, err := yamlDocs(path)
	if err != nil {
		return nil, err
	}
	if len(docs) != 1 {
		return nil, fmt.Errorf("%s: want one YAML document", rel)
	}
	top, _ := docs[0].(map[string]any)
	services, _ := top["services"].(map[string]any)
	if len(services) == 0 {
		return nil, fmt.Errorf("%s: no services", rel)
	}
	names := make([]string, 0, len(services))
	for n := range services {
		names = append(names, n)
	}
	sort.Strings(names)
	var uses []imageUse
	var errs []error
	for _, n := range names {
		svc, _ := services[n].(map[string]any)
		where := fmt.Sprintf("%s: service %s", rel, n)
		image, _ := svc["image"].(string)
		if image == "" {
			errs = append(errs, fmt.Errorf("%s: no image: compose would tag what it builds latest; name a version", where))
			continue
		}
		image, err := interpolateDefaults(image)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
			continue
		}
		use := imageUse{Where: where, Ref: parseImageRef(image)}
		if use.BuildVersion, err = composeBuildArg(svc, "VERSION"); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
		}
		uses = append(uses, use)
	}
	return uses, errors.Join(errs...)
}

var composeVarRE = regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?])?([^}]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// interpolateDefaults replaces compose variables by their defaults: what
// the file deploys when nothing overrides them.
func interpolateDefaults(s string) (string, error) {
	var err error
	out := composeVarRE.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		sub := composeVarRE.FindStringSubmatch(m)
		if sub[2] == "-" || sub[2] == ":-" {
			return sub[3]
		}
		err = fmt.Errorf("image %q: a variable without a default leaves the version to the environment: give it a default", s)
		return m
	})
	return out, err
}

// composeBuildArg is the value of a build argument of a compose service
// (build.args as a map or a list of NAME=value), variables replaced by
// their defaults; "" if the service sets none.
func composeBuildArg(svc map[string]any, name string) (string, error) {
	build, _ := svc["build"].(map[string]any)
	var val any
	switch args := build["args"].(type) {
	case map[string]any:
		val = args[name]
	case []any:
		for _, a := range args {
			if s, ok := a.(string); ok {
				if n, v, ok := strings.Cut(s, "="); ok && n == name {
					val = v
				}
			}
		}
	}
	if val == nil {
		return "", nil
	}
	return interpolateDefaults(fmt.Sprint(val))
}
