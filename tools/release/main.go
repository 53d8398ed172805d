// Command release builds and checks the releases of committeebot: static
// binaries in archives with checksums and SBOMs, and the commands that
// build the container images. It is the project's own small stand-in for
// GoReleaser, configured by release.yaml; the version is in VERSION.
//
// Usage (from the repository root):
//
//	go run ./tools/release check [--tag vX.Y.Z]
//	go run ./tools/release build [--snapshot | --tag vX.Y.Z] [--targets linux/amd64,…] [--out dist] [--clean]
//	go run ./tools/release image [--snapshot | --tag vX.Y.Z] [--push] > image.sh
//
// check validates release.yaml, the Dockerfile and the deployment
// manifests: every image they name carries a version (never latest, never
// no tag) and the bot's image is tagged VERSION; with --tag, the tag being
// released must be VERSION. build and image run the same check first. A
// release (no --snapshot) is built from a checkout without uncommitted
// changes; --snapshot builds anything, versioned VERSION-snapshot-<commit>.
// --commit and --date override what git says (the commit's time is the
// build date, so rebuilding a commit gives the same archives).
//
// It is a separate program, not a sub-command of the bot: none of it is
// linked into the binary it builds.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "release: %v\n", err)
		var u usageError
		if errors.As(err, &u) || errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// usageError is a bad command line.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

const usage = `usage:
  release check [--tag vX.Y.Z]
  release build [--snapshot | --tag vX.Y.Z] [--targets os/arch,…] [--out dist] [--clean]
  release image [--snapshot | --tag vX.Y.Z] [--push]
common flags: --root DIR (default: the module around the working directory), --config FILE (default: DIR/release.yaml)`

// run is the whole program.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{errors.New(usage)}
	}
	cmd := args[0]
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	root := fs.String("root", "", "repository root")
	cfgPath := fs.String("config", "", "release configuration")
	tag := fs.String("tag", "", "the git tag being released; must equal VERSION")
	var o releaseOptions
	var targets, out string
	var clean, push bool
	if cmd == "build" || cmd == "image" {
		fs.BoolVar(&o.snapshot, "snapshot", false, "version VERSION-snapshot-<commit>; no clean checkout needed")
		fs.StringVar(&o.commit, "commit", "", "the commit (default: git rev-parse HEAD)")
		fs.StringVar(&o.date, "date", "", "the build date, RFC 3339 (default: the commit's)")
	}
	switch cmd {
	case "check":
	case "build":
		fs.StringVar(&targets, "targets", "", "os/arch,… to build (default: release.yaml's targets)")
		fs.StringVar(&out, "out", "dist", "output directory")
		fs.BoolVar(&clean, "clean", false, "empty the output directory first")
	case "image":
		fs.BoolVar(&push, "push", false, "push the images (the script builds only, without it)")
	default:
		return usageError{fmt.Errorf("unknown command %q\n%s", cmd, usage)}
	}
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("%s takes no arguments: %q", cmd, fs.Args())}
	}
	o.tag = *tag

	if *root == "" {
		var err error
		if *root, err = moduleRoot(); err != nil {
			return err
		}
	}
	if *cfgPath == "" {
		*cfgPath = filepath.Join(*root, "release.yaml")
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}

	switch cmd {
	case "check":
		version, err := checkRelease(*root, cfg, *tag)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "release %s: %s; images %s; manifests name it.\n", version, strings.Join(cfg.Targets, " "), imageTags(cfg, version))
		for _, f := range cfg.Archive.Files {
			if _, err := os.Stat(filepath.Join(*root, f)); errors.Is(err, os.ErrNotExist) {
				fmt.Fprintf(stderr, "note: %s does not exist: the archives leave it out\n", f)
			}
		}
		return nil
	case "build":
		r, err := resolveRelease(ctx, *root, cfg, o)
		if err != nil {
			return err
		}
		list := cfg.Targets
		if targets != "" {
			list = strings.Split(targets, ",")
			for _, t := range list {
				if !targetRE.MatchString(t) {
					return usageError{fmt.Errorf("--targets: %q is not os/arch", t)}
				}
			}
		}
		if err := prepareOut(out, clean); err != nil {
			return err
		}
		arts, err := r.build(ctx, list, out, stderr)
		if err != nil {
			return err
		}
		for _, a := range arts {
			fmt.Fprintln(stdout, a.Path)
		}
		return nil
	case "image":
		r, err := resolveRelease(ctx, *root, cfg, o)
		if err != nil {
			return err
		}
		script, err := r.imageScript(push)
		if err != nil {
			return err
		}
		_, err = io.WriteString(stdout, script)
		return err
	}
	return nil
}

// imageTags lists the release's images.
func imageTags(cfg *Config, version string) string {
	var tags []string
	for _, v := range cfg.Image.Variants {
		tags = append(tags, cfg.Image.Name+":"+version+v.Suffix)
	}
	return strings.Join(tags, " ")
}

// prepareOut makes the output directory, which must be empty unless clean
// empties it: stale archives must not be published with new checksums.
func prepareOut(out string, clean bool) error {
	if clean {
		if err := os.RemoveAll(out); err != nil {
			return err
		}
	}
	entries, err := os.ReadDir(out)
	if err == nil && len(entries) > 0 {
		return fmt.Errorf("%s is not empty: remove it or pass --clean", out)
	}
	return os.MkdirAll(out, 0o755)
}

// moduleRoot is the directory of the go.mod around the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod here or above: run from the repository or pass --root")
		}
		dir = parent
	}
}
