package storage_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/committeebot/committeebot/storage"
	"github.com/committeebot/committeebot/storage/redistest"
)

const lease = 30 * time.Second

func newUpdates(t *testing.T) (*storage.Updates, *clock, *redistest.Instance) {
	t.Helper()
	rt := redistest.New(t)
	clk := newClock()
	u := storage.NewUpdates(rt.Client(), storage.NewKeys(rt.Prefix()), 48*time.Hour, storage.WithClock(clk.Now))
	return u, clk, rt
}

func begin(t *testing.T, u *storage.Updates, id int64, owner string) storage.Claim {
	t.Helper()
	c, err := u.Begin(context.Background(), id, owner, lease)
	if err != nil {
		t.Fatalf("Begin(%d, %q): %v", id, owner, err)
	}
	return c
}

// done marks update id done by owner, failing the test on error.
func done(t *testing.T, u *storage.Updates, id int64, owner string) {
	t.Helper()
	if err := u.Done(context.Background(), id, owner); err != nil {
		t.Fatalf("Done(%d, %q): %v", id, owner, err)
	}
}

// releaseUpdate releases owner's claim on update id, failing the test on
// error.
func releaseUpdate(t *testing.T, u *storage.Updates, id int64, owner string) {
	t.Helper()
	if err := u.Release(context.Background(), id, owner); err != nil {
		t.Fatalf("Release(%d, %q): %v", id, owner, err)
	}
}

// wantLeaseLost fails the test unless owner's Done of update id answers
// ErrLeaseLost; who says which owner that is.
func wantLeaseLost(t *testing.T, u *storage.Updates, id int64, owner, who string) {
	t.Helper()
	if err := u.Done(context.Background(), id, owner); !errors.Is(err, storage.ErrLeaseLost) {
		t.Errorf("Done by %s = %v, want ErrLeaseLost", who, err)
	}
}

// wantClaim fails the test unless got is want and its Proceed answers
// proceed; what names the call that made got.
func wantClaim(t *testing.T, what string, got, want storage.Claim, proceed bool) {
	t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", what, diff)
	}
	if got.Proceed() != proceed {
		t.Errorf("%s: Proceed() = %v, want %v", what, got.Proceed(), proceed)
	}
}

func TestUpdatesNewUpdateProceeds(t *testing.T) {
	t.Parallel()
	u, clk, _ := newUpdates(t)
	want := storage.Claim{State: storage.ClaimNew, Owner: "a", LeaseUntil: clk.Now().Add(lease), Attempt: 1}
	wantClaim(t, "Begin", begin(t, u, 1, "a"), want, true)
}

func TestUpdatesInProgressElsewhereIsBusy(t *testing.T) {
	t.Parallel()
	u, clk, _ := newUpdates(t)
	begin(t, u, 1, "a")
	clk.Advance(lease - time.Millisecond)
	want := storage.Claim{State: storage.ClaimBusy, Owner: "a", LeaseUntil: clk.Now().Add(time.Millisecond), Attempt: 1}
	wantClaim(t, "Begin by another owner while the lease runs", begin(t, u, 1, "b"), want, false)
}

func TestUpdatesDoneIsSkipped(t *testing.T) {
	t.Parallel()
	u, clk, _ := newUpdates(t)
	begin(t, u, 1, "a")
	done(t, u, 1, "a")
	// Long after any lease, within the TTL.
	clk.Advance(24 * time.Hour)
	wantClaim(t, "Begin after Done", begin(t, u, 1, "b"), storage.Claim{State: storage.ClaimDone, Owner: "a"}, false)
}

func TestUpdatesExpiredLeaseIsTakenOver(t *testing.T) {
	t.Parallel()
	u, clk, _ := newUpdates(t)
	begin(t, u, 1, "a") // a crashes: no Done
	clk.Advance(lease)
	want := storage.Claim{State: storage.ClaimTakeover, Owner: "b", LeaseUntil: clk.Now().Add(lease), Attempt: 2}
	wantClaim(t, "Begin after lease expiry", begin(t, u, 1, "b"), want, true)
	if got := begin(t, u, 1, "c"); got.State != storage.ClaimBusy || got.Owner != "b" {
		t.Errorf("Begin by a third owner = %+v, want busy, owned by b", got)
	}
	done(t, u, 1, "b") // the new owner
	// The crashed owner comes back and finishes late.
	wantLeaseLost(t, u, 1, "a", "the old owner")
	if got := begin(t, u, 1, "d"); got.State != storage.ClaimDone || got.Owner != "b" {
		t.Errorf("Begin after Done = %+v, want done by b", got)
	}
}

func TestUpdatesDoneAfterLosingTheLeaseStillMarksDone(t *testing.T) {
	t.Parallel()
	u, clk, _ := newUpdates(t)
	begin(t, u, 1, "a")
	clk.Advance(lease)
	begin(t, u, 1, "b")
	wantLeaseLost(t, u, 1, "a", "the expired owner")
	// Re-running the same Done answers the same.
	wantLeaseLost(t, u, 1, "a", "the expired owner again")
	wantLeaseLost(t, u, 1, "b", "the owner that took over (it ran twice)")
	if got := begin(t, u, 1, "c"); got.State != storage.ClaimDone {
		t.Errorf("Begin = %+v, want done", got)
	}
}

func TestUpdatesReleaseAllowsImmediateRetry(t *testing.T) {
	t.Parallel()
	u, _, _ := newUpdates(t)
	begin(t, u, 1, "a")
	releaseUpdate(t, u, 1, "a")
	releaseUpdate(t, u, 1, "a") // again
	got := begin(t, u, 1, "b")
	if got.State != storage.ClaimTakeover || got.Attempt != 2 {
		t.Errorf("Begin after Release = %+v, want takeover, attempt 2", got)
	}
	// Releasing a claim one no longer holds changes nothing.
	releaseUpdate(t, u, 1, "a")
	if got := begin(t, u, 1, "c"); got.State != storage.ClaimBusy || got.Owner != "b" {
		t.Errorf("Begin = %+v, want busy, owned by b", got)
	}
}

func TestUpdatesRerunsAreHarmless(t *testing.T) {
	t.Parallel()
	u, _, rt := newUpdates(t)
	ctx := context.Background()
	first := begin(t, u, 1, "a")
	// A retried script (reply lost) and a Redis that forgot its scripts
	// (restart) must both leave the claim as it was.
	if err := rt.Client().ScriptFlush(ctx).Err(); err != nil {
		t.Fatalf("SCRIPT FLUSH: %v", err)
	}
	again := begin(t, u, 1, "a")
	if diff := cmp.Diff(first, again); diff != "" {
		t.Errorf("Begin re-run (-first +again):\n%s", diff)
	}
	for range 2 {
		done(t, u, 1, "a")
	}
	if got := begin(t, u, 1, "a"); got.State != storage.ClaimDone {
		t.Errorf("Begin after Done by the same owner = %+v, want done", got)
	}
}

func TestUpdatesKeepClaimsForTTL(t *testing.T) {
	t.Parallel()
	u, _, rt := newUpdates(t)
	ctx := context.Background()
	key := storage.NewKeys(rt.Prefix()).UpdateClaim(1)
	begin(t, u, 1, "a")
	done(t, u, 1, "a")
	ttl, err := rt.Client().PTTL(ctx, key).Result()
	if err != nil {
		t.Fatalf("PTTL: %v", err)
	}
	if ttl <= 47*time.Hour || ttl > 48*time.Hour {
		t.Errorf("TTL of %s = %v, want about 48h", key, ttl)
	}
}

func TestUpdatesConcurrentBeginLetsExactlyOneProceed(t *testing.T) {
	t.Parallel()
	u, _, _ := newUpdates(t)
	owner := func(i int) string { return fmt.Sprintf("worker-%d", i) }
	claims := make([]storage.Claim, 50)
	errs := atOnce(len(claims), func(i int) error {
		var err error
		claims[i], err = u.Begin(context.Background(), 7, owner(i), lease)
		return err
	})
	var proceed []string
	for i, c := range claims {
		switch {
		case errs[i] != nil:
			t.Error(errs[i])
		case c.Proceed():
			proceed = append(proceed, owner(i))
		case c.State != storage.ClaimBusy:
			t.Errorf("%s: state %v, want busy", owner(i), c.State)
		}
	}
	if len(proceed) != 1 {
		t.Errorf("%d goroutines may proceed (%v), want exactly 1", len(proceed), proceed)
	}
}

func TestUpdatesRejectInvalidArguments(t *testing.T) {
	t.Parallel()
	u, _, _ := newUpdates(t)
	ctx := context.Background()
	if _, err := u.Begin(ctx, 1, "a", 0); !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("Begin with zero lease = %v, want ErrInvalid", err)
	}
	if _, err := u.Begin(ctx, 1, "", lease); !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("Begin with empty owner = %v, want ErrInvalid", err)
	}
	if err := u.Done(ctx, 1, ""); !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("Done with empty owner = %v, want ErrInvalid", err)
	}
}

func TestClaimStateString(t *testing.T) {
	t.Parallel()
	got := []string{storage.ClaimNew.String(), storage.ClaimTakeover.String(), storage.ClaimBusy.String(), storage.ClaimDone.String(), storage.ClaimState(0).String()}
	want := []string{"new", "takeover", "busy", "done", "ClaimState(0)"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("String (-want +got):\n%s", diff)
	}
}
