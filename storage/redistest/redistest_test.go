package redistest_test

import (
	"context"
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
