package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// artifact is one file of a build's output directory that is published
// (and listed in SHA256SUMS).
type artifact struct {
	Name string // file name in the output directory
	Path string
}

// build builds the binaries of targets (os/arch) into out: for each, the
// binary in <name>/, the archive <name>.tar.gz with the binary and the
// configured files, and its SBOM <name>.sbom.cdx.json, where name is
// <binary>_<version>_<os>_<arch>; then SHA256SUMS over the archives and
// SBOMs. Binaries are static (CGO_ENABLED=0), -trimpath, with the
// configured linker flags.
func (r *release) build(ctx context.Context, targets []string, out string, log io.Writer) ([]artifact, error) {
	flags, err := r.cfg.ldflags(r.BuildValues)
	if err != nil {
		return nil, err
	}
	var arts []artifact
	for _, t := range targets {
		goos, goarch, _ := strings.Cut(t, "/")
		name := fmt.Sprintf("%s_%s_%s_%s", r.cfg.Binary, r.Version, goos, goarch)
		bin := filepath.Join(out, name, r.cfg.Binary)
		if goos == "windows" {
			bin += ".exe"
		}
		fmt.Fprintf(log, "building %s\n", name)
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", flags, "-o", bin, "./"+filepath.ToSlash(filepath.Clean(r.cfg.Main)))
		cmd.Dir = r.root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch)
		if b, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build %s: %w\n%s", t, err, b)
		}
		if goos == "linux" {
			if err := checkStatic(bin); err != nil {
				return nil, fmt.Errorf("%s: %w", t, err)
			}
		}
		archive := artifact{Name: name + ".tar.gz", Path: filepath.Join(out, name+".tar.gz")}
		if err := r.archive(archive.Path, bin); err != nil {
			return nil, fmt.Errorf("archive %s: %w", t, err)
		}
		bom, err := r.sbom(bin, goos, goarch)
		if err != nil {
			return nil, fmt.Errorf("SBOM of %s: %w", t, err)
		}
		sbom := artifact{Name: name + ".sbom.cdx.json", Path: filepath.Join(out, name+".sbom.cdx.json")}
		if err := os.WriteFile(sbom.Path, bom, 0o644); err != nil {
			return nil, err
		}
		arts = append(arts, archive, sbom)
	}
	sums, err := checksums(arts)
	if err != nil {
		return nil, err
	}
	sumsPath := filepath.Join(out, "SHA256SUMS")
	if err := os.WriteFile(sumsPath, sums, 0o644); err != nil {
		return nil, err
	}
	return append(arts, artifact{Name: "SHA256SUMS", Path: sumsPath}), nil
}

// checkStatic fails if the ELF binary needs a dynamic loader or shared
// libraries: it would not run on distroless/static or an Alpine host.
func checkStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return errors.New("the binary is dynamically linked (it has an ELF interpreter)")
		}
	}
	if libs, err := f.ImportedLibraries(); err == nil && len(libs) > 0 {
		return fmt.Errorf("the binary needs shared libraries %v", libs)
	}
	return nil
}

// archive writes a .tar.gz of the binary and the configured files present
// in the repository, at the top level. Times, owners and modes are fixed
// (times are the build date) and gzip records no name or time, so the
// same build gives the same bytes.
func (r *release) archive(path, bin string) error {
	date, err := time.Parse(time.RFC3339, r.Date)
	if err != nil {
		return err
	}
	type entry struct{ name, src string }
	entries := []entry{{filepath.Base(bin), bin}}
	for _, f := range r.cfg.Archive.Files {
		src := filepath.Join(r.root, f)
		if _, err := os.Stat(src); errors.Is(err, os.ErrNotExist) {
			continue
		}
		entries = append(entries, entry{filepath.Base(f), src})
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(zw)
	for i, e := range entries {
		b, err := os.ReadFile(e.src)
		if err != nil {
			return err
		}
		mode := int64(0o644)
		if i == 0 {
			mode = 0o755
		}
		hdr := &tar.Header{Name: e.name, Mode: mode, Size: int64(len(b)), ModTime: date, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := tw.Write(b); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// checksums is SHA256SUMS in the format `sha256sum -c` reads: one
// "<hex>  <name>" line per file, sorted by name.
func checksums(arts []artifact) ([]byte, error) {
	sorted := append([]artifact(nil), arts...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	var b bytes.Buffer
	for _, a := range sorted {
		sum, err := fileSHA256(a.Path)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&b, "%s  %s\n", sum, a.Name)
	}
	return b.Bytes(), nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
