package storage_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/committeebot/committeebot/storage"
	"github.com/committeebot/committeebot/storage/redistest"
)

// With redis.wait_replicas, a write is acknowledged only once the replicas
// hold it; with the replica gone it is reported unavailable, so the user
// hears "not recorded, safe to repeat" instead of a promise Redis cannot
// keep.
func TestWritesWaitForTheirReplicas(t *testing.T) {
	t.Parallel()
	primary := redistest.New(t, redistest.WithOwnServer())
	replica := redistest.New(t, redistest.WithOwnServer())
	ctx := context.Background()
	host, port, _ := net.SplitHostPort(primary.Addr())
	// Redis waits 5 s for more replicas before a diskless sync by default.
	if err := primary.Client().ConfigSet(ctx, "repl-diskless-sync-delay", "0").Err(); err != nil {
		t.Fatal(err)
	}
	if err := replica.Client().SlaveOf(ctx, host, port).Err(); err != nil {
		t.Fatal(err)
	}
	// Online once the replica's link is up and it acknowledges a WAIT.
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, _ := replica.Client().Info(ctx, "replication").Result()
		n, _ := primary.Client().Do(ctx, "WAIT", 1, 100).Int()
		if strings.Contains(info, "master_link_status:up") && n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the replica never came online:\n%s", info)
		}
		time.Sleep(20 * time.Millisecond)
	}

	c := newClient(t, storage.Options{URL: primary.URL(), WaitReplicas: 1, WaitTimeout: time.Second})
	keys := storage.NewKeys(primary.Prefix())
	users := storage.NewUsers(c, keys)
	updates := storage.NewUpdates(c, keys, time.Hour)

	// A plain write, a script and a pipeline, all acknowledged.
	if err := users.SetLanguage(ctx, 7, "en"); err != nil {
		t.Fatalf("SetLanguage with its replica: %v", err)
	}
	if _, err := updates.Begin(ctx, 1, "a", time.Minute); err != nil {
		t.Fatalf("claim with its replica: %v", err)
	}
	box := storage.NewOutbox(c, keys, storage.OutboxLimits{})
	if _, err := box.Enqueue(ctx, storage.OutboxItem{ID: "x", Chat: "1", Kind: storage.OutboxSend, Body: []byte("{}")}); err != nil {
		t.Fatalf("a script with its replica: %v", err)
	}
	if lang, err := replica.Client().HGet(ctx, keys.UserProfile(7), "lang").Result(); err != nil || lang != "en" {
		t.Errorf("the replica holds lang %q, %v", lang, err)
	}
	// Reads do not wait.
	if _, err := users.Language(ctx, 7); err != nil {
		t.Errorf("a read: %v", err)
	}

	replica.Stop()
	err := users.SetLanguage(ctx, 8, "vi")
	if !errors.Is(err, storage.ErrNotReplicated) || !storage.IsUnavailable(err) {
		t.Errorf("a write without its replica = %v, want ErrNotReplicated (unavailable)", err)
	}
}

func TestWaitReplicasIsRefusedWithACluster(t *testing.T) {
	t.Parallel()
	_, err := storage.NewClient(storage.Options{ClusterAddrs: []string{"127.0.0.1:7000"}, WaitReplicas: 1})
	if err == nil {
		t.Error("a cluster with wait_replicas was accepted")
	}
}
