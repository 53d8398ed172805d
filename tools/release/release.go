package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"time"
)

// release is what one run builds: the configuration and the values the
// binaries and images are stamped with.
type release struct {
	root     string
	cfg      *Config
	base     string // VERSION
	snapshot bool
	BuildValues
}

// releaseOptions are the flags shared by build and image.
type releaseOptions struct {
	snapshot bool
	tag      string // the tag being released; must equal VERSION
	commit   string // default: git rev-parse HEAD
	date     string // default: the commit's time
}

var commitRE = regexp.MustCompile(`^[0-9a-f]{7,64}$`)

// checkRelease is `check`: the configuration, the Dockerfile and the
// manifests agree with each other and with VERSION (and with tag, the git
// tag being released, when given). It returns VERSION.
func checkRelease(root string, cfg *Config, tag string) (string, error) {
	var errs []error
	if err := cfg.validate(root); err != nil {
		errs = append(errs, err)
	}
	version, err := readVersion(root)
	if err != nil {
		return "", errors.Join(append(errs, err)...)
	}
	if tag != "" && tag != version {
		errs = append(errs, fmt.Errorf("the tag is %s but VERSION says %s: tag the commit that sets VERSION and the manifests to the new version", tag, version))
	}
	if err := cfg.checkManifests(root, version); err != nil {
		errs = append(errs, err)
	}
	return version, errors.Join(errs...)
}

// resolveRelease checks the release and decides its version, commit and
// date. A snapshot is versioned VERSION-snapshot-<commit>; a release is
// VERSION itself and is built from a checkout without uncommitted
// changes, so that its commit says what it contains.
func resolveRelease(ctx context.Context, root string, cfg *Config, o releaseOptions) (*release, error) {
	if o.snapshot && o.tag != "" {
		return nil, usageError{errors.New("--snapshot and --tag exclude each other: a snapshot is not the release of a tag")}
	}
	version, err := checkRelease(root, cfg, o.tag)
	if err != nil {
		return nil, err
	}
	r := &release{root: root, cfg: cfg, base: version, snapshot: o.snapshot}
	r.Commit = o.commit
	if r.Commit == "" {
		if r.Commit, err = git(ctx, root, "rev-parse", "HEAD"); err != nil {
			return nil, fmt.Errorf("the commit: %w (or pass --commit)", err)
		}
	}
	if !commitRE.MatchString(r.Commit) {
		return nil, fmt.Errorf("commit %q is not a hexadecimal revision", r.Commit)
	}
	date := o.date
	if date == "" {
		// The commit's time, not the clock's: building the same commit
		// twice gives the same bytes.
		if date, err = git(ctx, root, "log", "-1", "--format=%cI", r.Commit); err != nil {
			return nil, fmt.Errorf("the commit's date: %w (or pass --date)", err)
		}
	}
	t, err := time.Parse(time.RFC3339, date)
	if err != nil {
		return nil, fmt.Errorf("date %q is not RFC 3339: %w", date, err)
	}
	r.Date = t.UTC().Format(time.RFC3339)
	r.Version = version
	if o.snapshot {
		short := r.Commit
		if len(short) > 12 {
			short = short[:12]
		}
		r.Version = version + "-snapshot-" + short
		return r, nil
	}
	if o.commit == "" {
		dirty, err := git(ctx, root, "status", "--porcelain", "--untracked-files=no")
		if err != nil {
			return nil, fmt.Errorf("the checkout's state: %w", err)
		}
		if dirty != "" {
			return nil, fmt.Errorf("uncommitted changes (a release is built from a clean checkout of its tag; --snapshot builds anything):\n%s", dirty)
		}
	}
	return r, nil
}

// git runs git in root and returns its output, trimmed.
func git(ctx context.Context, root string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(stderr.Bytes()))
	}
	return strings.TrimSpace(string(out)), nil
}
