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

func newPollLease(t *testing.T) (*storage.PollLease, *clock) {
	t.Helper()
	rt := redistest.New(t)
	clk := newClock()
	return storage.NewPollLease(rt.Client(), storage.NewKeys(rt.Prefix()), storage.WithClock(clk.Now)), clk
}

func hold(t *testing.T, l *storage.PollLease, owner string, ttl time.Duration) storage.PollHold {
	t.Helper()
	h, err := l.Hold(context.Background(), owner, ttl)
	if err != nil {
		t.Fatalf("Hold(%s): %v", owner, err)
	}
	return h
}

func release(t *testing.T, l *storage.PollLease, owner string) bool {
	t.Helper()
	ok, err := l.Release(context.Background(), owner)
	if err != nil {
		t.Fatalf("Release(%s): %v", owner, err)
	}
	return ok
}

func TestPollLeaseHasOneHolderUntilItRunsOut(t *testing.T) {
	t.Parallel()
	l, clk := newPollLease(t)
	start := clk.Now()
	const ttl = 10 * time.Second

	if diff := cmp.Diff(storage.PollHold{Held: true, Owner: "a", Until: start.Add(ttl)}, hold(t, l, "a", ttl)); diff != "" {
		t.Errorf("first Hold (-want +got):\n%s", diff)
	}
	// Another replica stands by and learns who polls and until when.
	if diff := cmp.Diff(storage.PollHold{Owner: "a", Until: start.Add(ttl)}, hold(t, l, "b", ttl)); diff != "" {
		t.Errorf("Hold by another owner (-want +got):\n%s", diff)
	}
	// The holder renews before the end: the lease moves on.
	clk.Advance(3 * time.Second)
	if h := hold(t, l, "a", ttl); !h.Held || !h.Until.Equal(start.Add(13*time.Second)) {
		t.Errorf("renewal = %+v, want held until +13s", h)
	}
	clk.Advance(9 * time.Second) // 12 s: the renewed lease still runs
	if h := hold(t, l, "b", ttl); h.Held {
		t.Errorf("Hold by b at +12s = %+v, want refused (a's lease runs to +13s)", h)
	}
	// The holder stops renewing (a crash): once its lease ran out, the
	// next Hold takes over, and the old holder is refused.
	clk.Advance(time.Second)
	if h := hold(t, l, "b", ttl); !h.Held || h.Owner != "b" {
		t.Errorf("Hold by b at +13s = %+v, want taken over", h)
	}
	if h := hold(t, l, "a", ttl); h.Held || h.Owner != "b" {
		t.Errorf("renewal by the old holder = %+v, want refused naming b", h)
	}
}

func TestPollLeaseReleaseFreesItAtOnceForItsHolderOnly(t *testing.T) {
	t.Parallel()
	l, _ := newPollLease(t)
	hold(t, l, "a", time.Minute)
	if release(t, l, "b") {
		t.Error("b released a's lease")
	}
	if h := hold(t, l, "b", time.Minute); h.Held {
		t.Fatalf("after b's Release, b's Hold = %+v, want refused", h)
	}
	if !release(t, l, "a") {
		t.Error("a's Release reported no lease")
	}
	if release(t, l, "a") {
		t.Error("a second Release reported a lease")
	}
	// Free at once, long before the minute is over.
	if h := hold(t, l, "b", time.Minute); !h.Held {
		t.Errorf("Hold after Release = %+v, want held", h)
	}
	// A replica that lost the lease cannot free its successor's.
	if release(t, l, "a") {
		t.Error("the former holder released the new holder's lease")
	}
}

func TestPollLeaseGoesToExactlyOneOfManyReplicasAtOnce(t *testing.T) {
	t.Parallel()
	l, _ := newPollLease(t)
	owner := func(i int) string { return fmt.Sprint("replica-", i) }
	holds := make([]storage.PollHold, 20)
	errs := atOnce(len(holds), func(i int) error {
		var err error
		holds[i], err = l.Hold(context.Background(), owner(i), time.Minute)
		return err
	})
	var won []string
	for i, h := range holds {
		if h.Held {
			won = append(won, owner(i))
		}
	}
	if err := errors.Join(errs...); err != nil || len(won) != 1 {
		t.Errorf("holders %v, errors %v; want exactly one holder", won, err)
	}
}

func TestPollLeaseRefusesAnEmptyOwnerOrTTL(t *testing.T) {
	t.Parallel()
	l, _ := newPollLease(t)
	for _, tt := range []struct {
		owner string
		ttl   time.Duration
	}{{"", time.Second}, {"a", 0}} {
		if _, err := l.Hold(context.Background(), tt.owner, tt.ttl); !errors.Is(err, storage.ErrInvalid) {
			t.Errorf("Hold(%q, %v) = %v, want ErrInvalid", tt.owner, tt.ttl, err)
		}
	}
}

func TestPollLeaseReportsRedisDown(t *testing.T) {
	t.Parallel()
	rt := redistest.New(t, redistest.WithOwnServer())
	l := storage.NewPollLease(rt.Client(), storage.NewKeys(rt.Prefix()))
	rt.Stop()
	if _, err := l.Hold(context.Background(), "a", time.Second); !storage.IsUnavailable(err) {
		t.Errorf("Hold with Redis down = %v, want an unavailable error", err)
	}
}
