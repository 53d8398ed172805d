package main

import (
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
)

// A CycloneDX 1.5 bill of materials, the parts this tool writes
// (https://cyclonedx.org/docs/1.5/json/).
type cdxBOM struct {
	BOMFormat    string          `json:"bomFormat"`
	SpecVersion  string          `json:"specVersion"`
	SerialNumber string          `json:"serialNumber"`
	Version      int             `json:"version"`
	Metadata     cdxMetadata     `json:"metadata"`
	Components   []cdxComponent  `json:"components"`
	Dependencies []cdxDependency `json:"dependencies"`
}

type cdxMetadata struct {
	Timestamp string       `json:"timestamp"`
	Tools     cdxTools     `json:"tools"`
	Component cdxComponent `json:"component"`
}

type cdxTools struct {
	Components []cdxComponent `json:"components"`
}

type cdxComponent struct {
	Type               string        `json:"type"`
	BOMRef             string        `json:"bom-ref,omitempty"`
	Name               string        `json:"name"`
	Version            string        `json:"version,omitempty"`
	Description        string        `json:"description,omitempty"`
	PURL               string        `json:"purl,omitempty"`
	Hashes             []cdxHash     `json:"hashes,omitempty"`
	ExternalReferences []cdxExtRef   `json:"externalReferences,omitempty"`
	Properties         []cdxProperty `json:"properties,omitempty"`
}

type cdxHash struct {
	Alg     string `json:"alg"`
	Content string `json:"content"`
}

type cdxExtRef struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

type cdxProperty struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type cdxDependency struct {
	Ref       string   `json:"ref"`
	DependsOn []string `json:"dependsOn"`
}

// sbom describes the binary at path from the build information the Go
// linker embedded in it (debug/buildinfo): every module linked in with its
// version and go.sum hash, and the standard library of the Go version.
// Reading the binary rather than go.mod lists what was really linked.
func (r *release) sbom(path, goos, goarch string) ([]byte, error) {
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		return nil, err
	}
	sum, err := fileSHA256(path)
	if err != nil {
		return nil, err
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	mainRef := purl(bi.Main.Path, r.Version)
	bom := cdxBOM{
		BOMFormat:    "CycloneDX",
		SpecVersion:  "1.5",
		SerialNumber: serialNumber(sum),
		Version:      1,
		Metadata: cdxMetadata{
			Timestamp: r.Date,
			Tools: cdxTools{Components: []cdxComponent{{
				Type: "application", Name: "committeebot tools/release",
				Description: "go run ./tools/release build",
			}}},
			Component: cdxComponent{
				Type: "application", BOMRef: mainRef, Name: bi.Main.Path, Version: r.Version,
				Description: r.cfg.Image.Description, PURL: mainRef,
				Hashes:             []cdxHash{{Alg: "SHA-256", Content: sum}},
				ExternalReferences: []cdxExtRef{{Type: "vcs", URL: r.cfg.Image.Source}},
				Properties: []cdxProperty{
					// The cdx:gomod taxonomy (github.com/CycloneDX/cyclonedx-property-taxonomy).
					{Name: "cdx:gomod:build:env:GOOS", Value: goos},
					{Name: "cdx:gomod:build:env:GOARCH", Value: goarch},
					{Name: "cdx:gomod:build:env:CGO_ENABLED", Value: settings["CGO_ENABLED"]},
				},
			},
		},
	}
	stdlib := cdxComponent{
		Type: "library", Name: "stdlib", Version: bi.GoVersion,
		PURL: "pkg:golang/stdlib@" + purlEscape(strings.TrimPrefix(bi.GoVersion, "go")),
	}
	stdlib.BOMRef = stdlib.PURL
	bom.Components = append(bom.Components, stdlib)
	deps := []string{stdlib.BOMRef}
	for _, d := range bi.Deps {
		if d.Replace != nil {
			d = d.Replace
		}
		c := cdxComponent{Type: "library", Name: d.Path, Version: d.Version, PURL: purl(d.Path, d.Version)}
		c.BOMRef = c.PURL
		if h, ok := strings.CutPrefix(d.Sum, "h1:"); ok {
			// go.sum's h1: is a SHA-256 (of the module's file list and
			// their hashes), as cyclonedx-gomod records it.
			if raw, err := base64.StdEncoding.DecodeString(h); err == nil {
				c.Hashes = []cdxHash{{Alg: "SHA-256", Content: hex.EncodeToString(raw)}}
			}
		}
		bom.Components = append(bom.Components, c)
		deps = append(deps, c.BOMRef)
	}
	bom.Dependencies = []cdxDependency{{Ref: mainRef, DependsOn: deps}}
	b, err := json.MarshalIndent(bom, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// purl is the package URL of a Go module (pkg:golang/<path>@<version>,
// https://github.com/package-url/purl-spec).
func purl(path, version string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		segs[i] = purlEscape(s)
	}
	p := "pkg:golang/" + strings.Join(segs, "/")
	if version != "" {
		p += "@" + purlEscape(version)
	}
	return p
}

// purlEscape percent-encodes all but the unreserved characters.
func purlEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// serialNumber derives the BOM's UUID from the binary's hash, so that the
// same binary gets the same BOM.
func serialNumber(binarySHA256 string) string {
	h := sha256.Sum256([]byte("committeebot sbom " + binarySHA256))
	u := h[:16]
	u[6] = u[6]&0x0f | 0x50 // version 5: name-based
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}
