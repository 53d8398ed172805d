package apptest

import (
	"context"
	"testing"
	"time"
)

// WaitFor polls cond until it holds; on time-out it fails the test with
// whatever the optional explain functions say (logs, state).
func WaitFor(t *testing.T, cond func() bool, explain ...func() string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			for _, e := range explain {
				t.Log(e())
			}
			t.Fatal("condition not met in time")
		case <-time.After(20 * time.Millisecond):
		}
	}
}
