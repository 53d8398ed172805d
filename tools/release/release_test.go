package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// repoRoot is the repository, seen from this package's directory.
const repoRoot = "../.."

const (
	testCommit = "0123456789abcdef0123456789abcdef01234567"
	testDate   = "2026-01-02T03:04:05+07:00"
)

func runRelease(t *testing.T, args ...string) (stdout string, err error) {
	t.Helper()
	var out, errw bytes.Buffer
	err = run(context.Background(), args, &out, &errw)
	if err != nil && errw.Len() > 0 {
		t.Logf("release %s: stderr:\n%s", strings.Join(args, " "), errw.String())
	}
	return out.String(), err
}

func repoVersion(t *testing.T) string {
	t.Helper()
	v, err := readVersion(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestRepositoryPassesCheck(t *testing.T) {
	t.Parallel()
	out, err := runRelease(t, "check", "--root", repoRoot)
	if err != nil {
		t.Fatalf("check of the repository: %v", err)
	}
	v := repoVersion(t)
	if !strings.Contains(out, "release "+v) || !strings.Contains(out, "ghcr.io/committeebot/committeebot:"+v) {
		t.Errorf("check printed %q; want the version %s and the image", out, v)
	}
	if _, err := runRelease(t, "check", "--root", repoRoot, "--tag", v); err != nil {
		t.Errorf("check --tag %s (VERSION itself): %v", v, err)
	}
}

// fixture copies what check reads into a temporary directory, to be
// broken there.
func fixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, glob := range []string{"VERSION", "release.yaml", "go.mod", "*.go", "buildinfo/*.go", "deploy/Dockerfile", "deploy/compose.yaml", "deploy/kubernetes/*.yaml"} {
		files, err := filepath.Glob(filepath.Join(repoRoot, glob))
		if err != nil || len(files) == 0 {
			t.Fatalf("fixture: nothing matches %s (%v)", glob, err)
		}
		for _, f := range files {
			rel, _ := filepath.Rel(repoRoot, f)
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			dst := filepath.Join(dir, rel)
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(dst, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

// edit replaces old by new in dir/file, failing if old is not there.
func edit(t *testing.T, dir, file, old, new string) {
	t.Helper()
	path := filepath.Join(dir, file)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("%s does not contain %q", file, old)
	}
	if err := os.WriteFile(path, bytes.Replace(b, []byte(old), []byte(new), 1), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCheckRefusesBrokenReleases(t *testing.T) {
	t.Parallel()
	v := repoVersion(t)
	const image = "ghcr.io/committeebot/committeebot:"
	tests := []struct {
		name  string
		file  string
		old   string
		new   string
		extra []string // more flags
		want  string   // in the error
	}{
		{"kustomization says latest", "deploy/kubernetes/kustomization.yaml", "newTag: " + v, "newTag: latest", nil, "ghcr.io/committeebot/committeebot:latest is tagged latest"},
		{"kustomization names no tag", "deploy/kubernetes/kustomization.yaml", "    newTag: " + v + "\n", "", nil, "ghcr.io/committeebot/committeebot has no tag"},
		{"kustomization names another version", "deploy/kubernetes/kustomization.yaml", "newTag: " + v, "newTag: v0.0.9", nil, "but VERSION is " + v},
		{"kustomization rewrites nothing", "deploy/kubernetes/kustomization.yaml", "images:", "unused:", nil, "committeebot has no tag"},
		{"VERSION bumped alone", "VERSION", v, "v9.9.9", nil, "but VERSION is v9.9.9"},
		{"VERSION not a version", "VERSION", v, "1.2", nil, "is not a version"},
		{"Redis tagged latest", "deploy/kubernetes/redis-statefulset.yaml", "image: redis:7.4", "image: redis:latest", nil, "redis:latest is tagged latest"},
		{"compose says latest", "deploy/compose.yaml", image + v + "-alpine", image + "latest", nil, "ghcr.io/committeebot/committeebot:latest is tagged latest"},
		{"compose Redis untagged", "deploy/compose.yaml", "image: redis:7\n", "image: redis\n", nil, "service redis: redis has no tag"},
		{"compose bot without image", "deploy/compose.yaml", "image: " + image + v + "-alpine", "", nil, "service bot: no image"},
		{"compose version from the environment only", "deploy/compose.yaml", image + v, image + "${BOT_VERSION}", nil, "without a default"},
		{"compose default is another version", "deploy/compose.yaml", image + v, image + "${BOT_VERSION:-v0.0.9}", nil, "but VERSION is " + v},
		{"compose builds another version", "deploy/compose.yaml", "VERSION: " + v, "VERSION: v0.0.9", nil, "builds with VERSION v0.0.9"},
		{"tag is not VERSION", "", "", "", []string{"--tag", "v9.9.9"}, "the tag is v9.9.9 but VERSION says " + v},
		{"-X of a variable that does not exist", "release.yaml", "buildinfo.commit=", "buildinfo.revision=", nil, "no package-level variable revision"},
		{"ldflags set no date", "release.yaml", "  - -X github.com/committeebot/committeebot/buildinfo.date={{.Date}}\n", "", nil, "{{.Date}} is set nowhere"},
		{"target not os/arch", "release.yaml", "- linux/arm64", "- linux-arm64", nil, `"linux-arm64" is not os/arch`},
		{"unknown key", "release.yaml", "\nbinary:", "\nbinay:", nil, "field binay not found"},
		{"Dockerfile without a label", "deploy/Dockerfile", `org.opencontainers.image.revision="${COMMIT}"`, `org.example.revision="${COMMIT}"`, nil, "stage alpine: no LABEL org.opencontainers.image.revision"},
		{"Dockerfile without a linker flag", "deploy/Dockerfile", "buildinfo.commit=${COMMIT}", "buildinfo.revision=${COMMIT}", nil, "lacks the linker flags \"-X github.com/committeebot/committeebot/buildinfo.commit=${COMMIT}\""},
		{"Dockerfile label default differs", "deploy/Dockerfile", "ARG TITLE=committeebot", "ARG TITLE=bot", nil, `ARG TITLE defaults to "bot"`},
		{"Dockerfile without a variant's stage", "deploy/Dockerfile", "AS alpine", "AS busybox", nil, `no stage "alpine"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := fixture(t)
			if tt.file != "" {
				edit(t, dir, tt.file, tt.old, tt.new)
			}
			_, err := runRelease(t, append([]string{"check", "--root", dir}, tt.extra...)...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("check: %v; want an error with %q", err, tt.want)
			} else {
				t.Log(err)
			}
		})
	}
}

func TestParseImageRef(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want imageRef
	}{
		{"redis", imageRef{Name: "redis"}},
		{"redis:7.4", imageRef{Name: "redis", Tag: "7.4"}},
		{"localhost:5000/bot", imageRef{Name: "localhost:5000/bot"}},
		{"localhost:5000/bot:v1.0.0", imageRef{Name: "localhost:5000/bot", Tag: "v1.0.0"}},
		{"ghcr.io/a/b@sha256:abc", imageRef{Name: "ghcr.io/a/b", Digest: "sha256:abc"}},
		{"ghcr.io/a/b:v1@sha256:abc", imageRef{Name: "ghcr.io/a/b", Tag: "v1", Digest: "sha256:abc"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, parseImageRef(tt.in)); diff != "" {
			t.Errorf("parseImageRef(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestImageScriptLabelsAndTagsBothVariants(t *testing.T) {
	t.Parallel()
	v := repoVersion(t)
	for _, push := range []bool{false, true} {
		args := []string{"image", "--root", repoRoot, "--snapshot", "--commit", testCommit, "--date", testDate}
		if push {
			args = append(args, "--push")
		}
		out, err := runRelease(t, args...)
		if err != nil {
			t.Fatalf("image: %v", err)
		}
		snap := v + "-snapshot-0123456789ab"
		for _, want := range []string{
			"--platform linux/amd64,linux/arm64",
			"--target runtime", "--target alpine",
			"--tag ghcr.io/committeebot/committeebot:" + snap + " \\",
			"--tag ghcr.io/committeebot/committeebot:" + snap + "-alpine \\",
			"--build-arg VERSION=" + snap,
			"--build-arg COMMIT=" + testCommit,
			"--build-arg DATE=2026-01-01T20:04:05Z",
			"--build-arg GO_VERSION=" + strings.TrimPrefix(runtime.Version(), "go"),
			"--annotation index:org.opencontainers.image.revision=" + testCommit,
		} {
			if !strings.Contains(out, want) {
				t.Errorf("image script lacks %q:\n%s", want, out)
			}
		}
		if got := strings.Contains(out, "--push"); got != push {
			t.Errorf("image --push=%v: the script pushes: %v", push, got)
		}
	}
}

// TestSnapshotBuild builds the host's target as a release would (the
// other targets cost a cross-compilation of everything, which the release
// workflow does) and checks what it published. It runs the tool as the
// workflow does, `go run ./tools/release`, and unpacks with tar: under the
// race detector, compressing and hashing the binary's tens of megabytes in
// the test's process takes a minute.
func TestSnapshotBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the bot")
	}
	t.Parallel()
	v := repoVersion(t)
	out := filepath.Join(t.TempDir(), "dist")
	target := runtime.GOOS + "/" + runtime.GOARCH
	cmd := exec.Command("go", "run", ".", "build", "--root", repoRoot, "--snapshot", "--targets", target,
		"--commit", testCommit, "--date", testDate, "--out", out)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("go run ./tools/release build: %v\n%s", err, stderr.Bytes())
	}
	printed := string(stdout)
	snap := v + "-snapshot-0123456789ab"
	name := "committeebot_" + snap + "_" + runtime.GOOS + "_" + runtime.GOARCH
	wantFiles := []string{name + ".sbom.cdx.json", name + ".tar.gz", "SHA256SUMS"}
	for _, f := range wantFiles {
		if !strings.Contains(printed, filepath.Join(out, f)) {
			t.Errorf("build printed %q; want %s among the files", printed, f)
		}
	}

	// The archive holds the binary built and the README; the binary says
	// its version and commit.
	unpacked := t.TempDir()
	if b, err := exec.Command("tar", "-xzf", filepath.Join(out, name+".tar.gz"), "-C", unpacked).CombinedOutput(); err != nil {
		t.Fatalf("tar -xzf %s.tar.gz: %v\n%s", name, err, b)
	}
	entries, err := os.ReadDir(unpacked)
	if err != nil {
		t.Fatal(err)
	}
	var inArchive []string
	for _, e := range entries {
		inArchive = append(inArchive, e.Name())
	}
	if diff := cmp.Diff([]string{"README.md", "committeebot"}, inArchive); diff != "" {
		t.Errorf("files in the archive (-want +got):\n%s", diff)
	}
	built, err := os.ReadFile(filepath.Join(out, name, "committeebot"))
	if err != nil {
		t.Fatal(err)
	}
	archived, err := os.ReadFile(filepath.Join(unpacked, "committeebot"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(built, archived) {
		t.Errorf("the archive's committeebot (%d bytes) is not the binary built (%d bytes)", len(archived), len(built))
	}
	got, err := exec.Command(filepath.Join(unpacked, "committeebot"), "version").Output()
	if err != nil {
		t.Fatalf("committeebot version: %v", err)
	}
	want := "committeebot " + snap + " (commit 0123456789ab, built 2026-01-01T20:04:05Z, " + runtime.Version() + ")\n"
	if string(got) != want {
		t.Errorf("committeebot version = %q; want %q", got, want)
	}

	t.Run("SHA256SUMS lists every archive and SBOM with its hash", func(t *testing.T) {
		f, err := os.Open(filepath.Join(out, "SHA256SUMS"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var listed []string
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			sum, file, ok := strings.Cut(sc.Text(), "  ")
			if !ok {
				t.Fatalf("SHA256SUMS line %q is not <sha256>  <file>", sc.Text())
			}
			got, err := fileSHA256(filepath.Join(out, file))
			if err != nil {
				t.Fatal(err)
			}
			if got != sum {
				t.Errorf("%s: SHA256SUMS says %s, the file is %s", file, sum, got)
			}
			listed = append(listed, file)
		}
		if diff := cmp.Diff(wantFiles[:2], listed); diff != "" {
			t.Errorf("files in SHA256SUMS (-want +got):\n%s", diff)
		}
	})

	t.Run("the SBOM is CycloneDX and lists go-redis at go.mod's version", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join(out, name+".sbom.cdx.json"))
		if err != nil {
			t.Fatal(err)
		}
		var bom cdxBOM
		if err := json.Unmarshal(b, &bom); err != nil {
			t.Fatalf("the SBOM is not JSON: %v", err)
		}
		if bom.BOMFormat != "CycloneDX" || bom.SpecVersion != "1.5" || !regexp.MustCompile(`^urn:uuid:[0-9a-f-]{36}$`).MatchString(bom.SerialNumber) {
			t.Errorf("SBOM header: format %q, spec %q, serial %q", bom.BOMFormat, bom.SpecVersion, bom.SerialNumber)
		}
		if bom.Metadata.Component.Version != snap {
			t.Errorf("SBOM component version %q; want %q", bom.Metadata.Component.Version, snap)
		}
		const redis = "github.com/redis/go-redis/v9"
		want := goModVersion(t, redis)
		var found *cdxComponent
		for i, c := range bom.Components {
			if c.Name == redis {
				found = &bom.Components[i]
			}
		}
		if found == nil {
			t.Fatalf("the SBOM lists no %s", redis)
		}
		if found.Version != want || found.PURL != "pkg:golang/"+redis+"@"+want || len(found.Hashes) != 1 || len(found.Hashes[0].Content) != 64 {
			t.Errorf("SBOM entry of %s: %+v; want version %s, its purl and go.sum's hash", redis, *found, want)
		}
	})
}

// goModVersion is the version go.mod requires of module.
func goModVersion(t *testing.T, module string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(module) + `\s+(v\S+)`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("go.mod requires no %s", module)
	}
	return string(m[1])
}
