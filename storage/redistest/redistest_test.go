package redistest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/committeebot/committeebot/storage/redistest"
)

func TestInstancesGetDistinctPrefixes(t *testing.T) {
	a, b := redistest.New(t), redistest.New(t)
	if a.Prefix() == b.Prefix() {
		t.Errorf("two instances share prefix %q", a.Prefix())
	}
	if err := a.Client().Ping(context.Background()).Err(); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

func TestRestartKeepsPortAndAppendOnlyData(t *testing.T) {
	rt := redistest.New(t, redistest.WithAppendOnly())
	ctx := context.Background()
	url := rt.URL()
	key := rt.Prefix() + ":k"
	if err := rt.Client().Set(ctx, key, "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}

	rt.Stop()
	if err := rt.Client().Ping(ctx).Err(); err == nil {
		t.Fatal("Ping succeeded while the server is stopped")
	}
	entries, err := os.ReadDir(filepath.Join(rt.Dir(), "appendonlydir"))
	if err != nil || len(entries) == 0 {
		t.Errorf("no append-only files under %s: %v", rt.Dir(), err)
	}

	rt.Restart()
	if rt.URL() != url {
		t.Errorf("URL after restart = %s, want %s", rt.URL(), url)
	}
	if got, err := rt.Client().Get(ctx, key).Result(); err != nil || got != "v" {
		t.Errorf("GET after restart = %q, %v; want v", got, err)
	}
}

func TestRestartWithoutPersistenceForgetsData(t *testing.T) {
	rt := redistest.New(t, redistest.WithOwnServer())
	ctx := context.Background()
	key := rt.Prefix() + ":k"
	if err := rt.Client().Set(ctx, key, "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	rt.Kill()
	rt.Restart()
	if n, err := rt.Client().Exists(ctx, key).Result(); err != nil || n != 0 {
		t.Errorf("EXISTS after restart = %d, %v; want 0", n, err)
	}
}

// A SIGKILLed server's forked child — here an AOF rewrite slowed down to
// last seconds — ends with it: nothing goes on writing into the directory
// that the test's clean-up removes (which failed with "directory not
// empty" when a test's BGREWRITEAOF was still running at its end).
func TestKillEndsTheServersForkedChild(t *testing.T) {
	if _, err := os.Readlink("/proc/self/cwd"); err != nil {
		t.Skip("needs /proc")
	}
	rt := redistest.New(t, redistest.WithAppendOnly())
	ctx := context.Background()
	c := rt.Client()
	for i := range 20 {
		if err := c.Set(ctx, fmt.Sprintf("%s:%d", rt.Prefix(), i), "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	// A tenth of a second per key: the rewrite's child runs for two.
	if err := c.ConfigSet(ctx, "rdb-key-save-delay", "100000").Err(); err != nil {
		t.Skipf("this redis-server cannot slow its saves down: %v", err)
	}
	// The reply comes after the fork: the child runs from here on.
	if err := c.Do(ctx, "BGREWRITEAOF").Err(); err != nil {
		t.Fatal(err)
	}
	dir, err := filepath.EvalSymlinks(rt.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if n := len(workingIn(dir)); n < 2 {
		t.Fatalf("%d processes work in the server's directory, want the server and its child", n)
	}
	rt.Kill()
	if pids := workingIn(dir); len(pids) > 0 {
		t.Errorf("processes %v still work in the directory of the killed server", pids)
	}
}

// workingIn lists the live processes whose working directory is dir
// (redis-server runs in its data directory, and so do its children).
func workingIn(dir string) []string {
	cwds, _ := filepath.Glob("/proc/[0-9]*/cwd")
	var out []string
	for _, cwd := range cwds {
		if target, err := os.Readlink(cwd); err == nil && target == dir {
			out = append(out, filepath.Base(filepath.Dir(cwd)))
		}
	}
	return out
}
