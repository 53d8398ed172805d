package storage_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/committeebot/committeebot/storage"
	"github.com/committeebot/committeebot/storage/redistest"
)

// newClient returns storage.NewClient(o), closed when the test ends,
// failing the test on error.
func newClient(t *testing.T, o storage.Options) redis.UniversalClient {
	t.Helper()
	c, err := storage.NewClient(o)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestNewClientFromURLPings(t *testing.T) {
	t.Parallel()
	rt := redistest.New(t)
	c := newClient(t, storage.Options{URL: rt.URL()})
	if err := storage.Ping(context.Background(), c); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func TestNewClientAppliesDefaultTimeouts(t *testing.T) {
	t.Parallel()
	c := newClient(t, storage.Options{URL: "redis://127.0.0.1:1/3"})
	rc, ok := c.(*redis.Client)
	if !ok {
		t.Fatalf("NewClient returned %T, want *redis.Client", c)
	}
	o := rc.Options()
	if o.DB != 3 || o.DialTimeout != storage.DefaultDialTimeout || o.ReadTimeout != storage.DefaultReadTimeout ||
		o.WriteTimeout != storage.DefaultWriteTimeout || o.PoolTimeout != storage.DefaultPoolTimeout {
		t.Errorf("options: db %d dial %v read %v write %v pool %v; want db 3 and the package defaults",
			o.DB, o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout)
	}
}

func TestNewClientKeepsTimeoutsFromURL(t *testing.T) {
	t.Parallel()
	c := newClient(t, storage.Options{URL: "redis://127.0.0.1:1/0?read_timeout=7s"})
	if got := c.(*redis.Client).Options().ReadTimeout; got != 7*time.Second {
		t.Errorf("ReadTimeout = %v, want 7s", got)
	}
}

func TestNewClientPasswordOverridesURL(t *testing.T) {
	t.Parallel()
	c := newClient(t, storage.Options{URL: "redis://:old@127.0.0.1:1/0", Password: "new"})
	if got := c.(*redis.Client).Options().Password; got != "new" {
		t.Errorf("Password = %q, want %q", got, "new")
	}
}

func TestNewClientModes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts storage.Options
		want string // %T of the client
	}{
		{"single", storage.Options{URL: "redis://127.0.0.1:1/0"}, "*redis.Client"},
		{"sentinel", storage.Options{URL: "redis://127.0.0.1:6379/2", SentinelMaster: "mymaster", SentinelAddrs: []string{"127.0.0.1:1", "127.0.0.1:2"}}, "*redis.Client"},
		{"sentinel without url", storage.Options{SentinelMaster: "mymaster", SentinelAddrs: []string{"127.0.0.1:1"}}, "*redis.Client"},
		{"cluster", storage.Options{ClusterAddrs: []string{"127.0.0.1:1", "127.0.0.1:2"}}, "*redis.ClusterClient"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, tt.opts)
			if got := typeName(c); got != tt.want {
				t.Errorf("client type = %s, want %s", got, tt.want)
			}
		})
	}
}

func typeName(v any) string {
	switch v.(type) {
	case *redis.Client:
		return "*redis.Client"
	case *redis.ClusterClient:
		return "*redis.ClusterClient"
	default:
		return "other"
	}
}

func TestNewClientRejectsBadOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    storage.Options
		wantMsg string
	}{
		{"empty", storage.Options{}, "url is empty"},
		{"bad scheme", storage.Options{URL: "http://127.0.0.1:6379"}, "malformed url"},
		{"bad port", storage.Options{URL: "redis://user:s3cret@127.0.0.1:port/0"}, "malformed url"},
		{"bad escape", storage.Options{URL: "redis://:s3cr%zz@127.0.0.1:6379/0"}, "malformed url"},
		{"bad db", storage.Options{URL: "redis://127.0.0.1:6379/zero"}, "malformed url"},
		{"sentinel and cluster", storage.Options{SentinelMaster: "m", SentinelAddrs: []string{"h:1"}, ClusterAddrs: []string{"h:2"}}, "choose one"},
		{"master without addrs", storage.Options{SentinelMaster: "m"}, "no sentinel addresses"},
		{"addrs without master", storage.Options{SentinelAddrs: []string{"h:1"}}, "no sentinel master"},
		{"addr without port", storage.Options{ClusterAddrs: []string{"h"}}, "not host:port"},
		{"cluster with db", storage.Options{URL: "redis://h:1/4", ClusterAddrs: []string{"h:1"}}, "only database 0"},
		{"prefix with brace", storage.Options{URL: "redis://h:1/0", KeyPrefix: "a{b}"}, "key prefix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := storage.NewClient(tt.opts)
			if err == nil {
				c.Close()
				t.Fatal("NewClient succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not mention %q", err, tt.wantMsg)
			}
			if strings.Contains(err.Error(), "s3cr") {
				t.Errorf("error %q reveals the password", err)
			}
			if storage.IsUnavailable(err) {
				t.Errorf("IsUnavailable(%v) = true for a configuration error", err)
			}
		})
	}
}
