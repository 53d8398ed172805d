package redistest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/committeebot/committeebot/storage/redistest"
)

// The Sentinels promote a replica when the primary dies, and the client
// follows: what the replicas held is there, what the primary held alone
// (written after CutOffReplicas) is lost.
func TestSentinelFailsOverToAReplica(t *testing.T) {
	t.Parallel()
	s := redistest.NewSentinel(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := s.Client()
	kept, lost := s.Prefix()+":kept", s.Prefix()+":lost"
	if err := c.Set(ctx, kept, "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Do(ctx, "WAIT", 2, 1000).Int(); err != nil || n != 2 {
		t.Fatalf("WAIT 2 = %d, %v", n, err)
	}
	cut := s.CutOffReplicas()
	if err := cut.Primary().Set(ctx, lost, "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := cut.Primary().Do(ctx, "WAIT", 1, 100).Int(); err != nil || n != 0 {
		t.Errorf("WAIT 1 on the cut-off primary = %d, %v; want 0", n, err)
	}
	killed := cut.Crash()
	start := time.Now()
	for {
		primary, err := s.Primary(ctx)
		if err == nil && primary != killed && c.Set(ctx, s.Prefix()+":after", "w", 0).Err() == nil {
			t.Logf("%s promoted %v after the crash of %s", primary, time.Since(start).Round(time.Millisecond), killed)
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no failover: the primary is %s (%v)", primary, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	if got, err := c.Get(ctx, kept).Result(); err != nil || got != "v" {
		t.Errorf("GET of a replicated key after the failover = %q, %v; want v", got, err)
	}
	if n, err := c.Exists(ctx, lost).Result(); err != nil || n != 0 {
		t.Errorf("EXISTS of a key the primary held alone = %d, %v; want 0 (lost)", n, err)
	}
}

// Keys of different hash tags live on different masters, and one command
// over two slots is refused: the cluster is a real one.
func TestClusterSpreadsSlotsOverThreeMasters(t *testing.T) {
	t.Parallel()
	cl := redistest.NewCluster(t)
	ctx := context.Background()
	if got := len(cl.Addrs()); got != 3 {
		t.Fatalf("%d nodes, want 3", got)
	}
	c := cl.Client()
	a, b := cl.Prefix()+":{a}:k", cl.Prefix()+":{b}:k" // slots 15495 and 3300
	for _, k := range []string{a, b} {
		if err := c.Set(ctx, k, "v", 0).Err(); err != nil {
			t.Fatalf("SET %s: %v", k, err)
		}
	}
	if err := c.Do(ctx, "DEL", a, b).Err(); err == nil || !strings.Contains(err.Error(), "CROSSSLOT") {
		t.Errorf("DEL over two slots = %v, want CROSSSLOT", err)
	}
}
