package storage_test

import (
	"context"
	"slices"
	"testing"
	"time"
)

func TestAllMeetingsPastUpcomingAndCancelledByStart(t *testing.T) {
	t.Parallel()
	f := newMeetings(t)
	ctx := context.Background()
	now := f.clock.Now()
	later := f.create(t, now.Add(72*time.Hour))
	soon := f.create(t, now.Add(2*time.Hour))
	cancelled := f.create(t, now.Add(48*time.Hour))
	if _, _, _, err := f.Cancel(ctx, f.cid, cancelled.ID, 1); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(3 * time.Hour) // soon is past now

	got, err := f.All(ctx, f.cid)
	if err != nil {
		t.Fatalf("All: %v", err)
	}
	var ids, statuses []string
	for _, m := range got {
		ids, statuses = append(ids, m.ID), append(statuses, m.Status)
	}
	if want := []string{soon.ID, cancelled.ID, later.ID}; !slices.Equal(ids, want) {
		t.Errorf("All ids = %v, want %v (by start, past and cancelled included)", ids, want)
	}
	if want := []string{"scheduled", "cancelled", "scheduled"}; !slices.Equal(statuses, want) {
		t.Errorf("All statuses = %v, want %v", statuses, want)
	}
	if none, err := f.All(ctx, "404"); err != nil || len(none) != 0 {
		t.Errorf("All(unknown committee) = %v, %v; want none", none, err)
	}
}
