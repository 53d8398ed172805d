package storage_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/committeebot/committeebot/storage"
	"github.com/committeebot/committeebot/storage/redistest"
)

// newOutbox returns an outbox with limits l on a fresh key prefix, its
// clock, and a maker of more outboxes (other replicas) on the same keys.
func newOutbox(t testing.TB, l storage.OutboxLimits) (*storage.Outbox, *clock, func() *storage.Outbox) {
	t.Helper()
	rt := redistest.New(t)
	clk := newClock()
	mk := func() *storage.Outbox {
		return storage.NewOutbox(rt.Client(), storage.NewKeys(rt.Prefix()), l, storage.WithClock(clk.Now))
	}
	return mk(), clk, mk
}

func item(id, chat string, kind storage.OutboxKind, prio int) storage.OutboxItem {
	return storage.OutboxItem{ID: id, Chat: chat, Kind: kind, Priority: prio, Body: []byte("body-" + id)}
}

// editItem is an edit of one message in chat, coalescing with the edits
// waiting under coal, carrying body.
func editItem(id, chat, coal, body string, prio int, fresh bool) storage.OutboxItem {
	it := item(id, chat, storage.OutboxEdit, prio)
	it.Body, it.Coalesce, it.Fresh = []byte(body), coal, fresh
	return it
}

func enqueue(t *testing.T, o *storage.Outbox, it storage.OutboxItem) storage.EnqueueResult {
	t.Helper()
	r, err := o.Enqueue(context.Background(), it)
	if err != nil {
		t.Fatalf("Enqueue %s: %v", it.ID, err)
	}
	return r
}

func claim(t *testing.T, o *storage.Outbox, n int) ([]storage.OutboxDelivery, time.Duration) {
	t.Helper()
	c, err := o.Claim(context.Background(), n, time.Minute)
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	return c.Items, c.Wait
}

// claimOne claims from o and fails the test unless it gets the one item
// id, which it returns.
func claimOne(t *testing.T, o *storage.Outbox, id string) storage.OutboxDelivery {
	t.Helper()
	ds, _ := claim(t, o, 10)
	if len(ds) != 1 || ds[0].ID != id {
		t.Fatalf("claimed %v, want %s", deliveryIDs(ds), id)
	}
	return ds[0]
}

func complete(t *testing.T, o *storage.Outbox, d storage.OutboxDelivery, msg int64) {
	t.Helper()
	if r, err := o.Complete(context.Background(), d, msg); err != nil || r != storage.Finished {
		t.Fatalf("Complete %s = %q, %v; want ok", d.ID, r, err)
	}
}

func deliveryIDs(ds []storage.OutboxDelivery) []string {
	return idsOf(ds, func(d storage.OutboxDelivery) string { return d.ID })
}

func TestOutboxEnqueueIsIdempotentWhileWaitingAndAfterDelivery(t *testing.T) {
	t.Parallel()
	o, _, _ := newOutbox(t, storage.OutboxLimits{})
	if r := enqueue(t, o, item("u1#1", "42", storage.OutboxSend, 0)); r != storage.Queued {
		t.Fatalf("first Enqueue = %q, want queued", r)
	}
	if r := enqueue(t, o, item("u1#1", "42", storage.OutboxSend, 0)); r != storage.Known {
		t.Fatalf("second Enqueue while waiting = %q, want known", r)
	}
	ds, _ := claim(t, o, 10)
	if len(ds) != 1 {
		t.Fatalf("claimed %d items, want 1", len(ds))
	}
	complete(t, o, ds[0], 777)
	if r := enqueue(t, o, item("u1#1", "42", storage.OutboxSend, 0)); r != storage.Known {
		t.Fatalf("Enqueue after delivery = %q, want known", r)
	}
	if ds, _ := claim(t, o, 10); len(ds) != 0 {
		t.Fatalf("a delivered item was claimed again: %v", deliveryIDs(ds))
	}
	if got, err := o.Outcome(context.Background(), "u1#1"); err != nil || got != "m:777" {
		t.Fatalf("Outcome = %q, %v; want m:777", got, err)
	}
}

func TestOutboxKeepsOrderWithinAChatAndOneItemInFlightPerChat(t *testing.T) {
	t.Parallel()
	o, _, _ := newOutbox(t, storage.OutboxLimits{})
	for i := range 3 {
		enqueue(t, o, item(fmt.Sprintf("a%d", i), "1", storage.OutboxSend, 0))
		enqueue(t, o, item(fmt.Sprintf("b%d", i), "2", storage.OutboxSend, 0))
	}
	var got []string
	for range 3 {
		ds, _ := claim(t, o, 10)
		if len(ds) != 2 {
			t.Fatalf("claimed %v, want one item of each chat", deliveryIDs(ds))
		}
		if again, _ := claim(t, o, 10); len(again) != 0 {
			t.Fatalf("claimed %v while both chats had an item in flight", deliveryIDs(again))
		}
		for _, d := range ds {
			got = append(got, d.ID)
			complete(t, o, d, 1)
		}
	}
	sort.SliceStable(got, func(i, j int) bool { return got[i][0] < got[j][0] })
	if diff := cmp.Diff([]string{"a0", "a1", "a2", "b0", "b1", "b2"}, got); diff != "" {
		t.Errorf("delivery order (-want +got):\n%s", diff)
	}
}

func TestOutboxSendsAnswersBeforeFanOutWhenTheGlobalLimitIsTight(t *testing.T) {
	t.Parallel()
	o, _, _ := newOutbox(t, storage.OutboxLimits{GlobalMax: 3, GlobalWindow: time.Second})
	for i := range 5 {
		enqueue(t, o, item(fmt.Sprintf("fan%d", i), fmt.Sprint(100+i), storage.OutboxSend, storage.PriorityFanOut))
	}
	enqueue(t, o, item("answer", "7", storage.OutboxSend, storage.PriorityAnswer))
	ds, _ := claim(t, o, 10)
	if len(ds) != 3 || ds[0].ID != "answer" {
		t.Fatalf("claimed %v; want the answer first and 3 in all", deliveryIDs(ds))
	}
}

func TestOutboxCoalescesWaitingEditsOfOneMessage(t *testing.T) {
	t.Parallel()
	o, _, _ := newOutbox(t, storage.OutboxLimits{})
	edit := func(id, body string) storage.OutboxItem { return editItem(id, "-100", "edit:-100:5", body, 1, false) }
	enqueue(t, o, item("post", "-100", storage.OutboxSend, 1))
	enqueue(t, o, edit("e1", "turnout 1/8"))
	if r := enqueue(t, o, edit("e2", "turnout 2/8")); r != storage.Merged {
		t.Fatalf("second edit = %q, want merged", r)
	}
	complete(t, o, claimOne(t, o, "post"), 5)
	e1 := claimOne(t, o, "e1")
	if string(e1.Body) != "turnout 2/8" {
		t.Fatalf("e1 carries %q, want the latest body", e1.Body)
	}
	// Once an edit is on its way, a newer one queues behind it.
	if r := enqueue(t, o, edit("e3", "turnout 3/8")); r != storage.Queued {
		t.Fatalf("edit while one is in flight = %q, want queued", r)
	}
	complete(t, o, e1, 0)
	claimOne(t, o, "e3")
}

func TestOutboxFreshEditsCoalesceAndKeepTheirBodyOnceClaimed(t *testing.T) {
	t.Parallel()
	o, clk, replica := newOutbox(t, storage.OutboxLimits{})
	edit := func(id, body string) storage.OutboxItem { return editItem(id, "42", "e:42:7", body, 0, true) }
	if r := enqueue(t, o, edit("f1", "card: picked")); r != storage.Queued {
		t.Fatalf("first edit = %q, want queued", r)
	}
	for _, e := range []storage.OutboxItem{edit("f2", "card: reviewed"), edit("f2b", "card: recorded, receipt A")} {
		if r := enqueue(t, o, e); r != storage.Merged {
			t.Fatalf("edit %s = %q, want merged", e.ID, r)
		}
	}
	if f1 := claimOne(t, o, "f1"); string(f1.Body) != "card: recorded, receipt A" {
		t.Fatalf("f1 carries %q, want the latest body", f1.Body)
	}
	// A newer edit while f1 is on its way queues behind it, and does not
	// change what f1 sends even when f1's claim lapses and it is sent again.
	if r := enqueue(t, o, edit("f3", "card: changed")); r != storage.Queued {
		t.Fatalf("edit while one is in flight = %q, want queued", r)
	}
	clk.Advance(2 * time.Minute)
	other := replica()
	again := claimOne(t, other, "f1")
	if string(again.Body) != "card: recorded, receipt A" || !again.Uncertain {
		t.Fatalf("claim after the lease = %+v; want f1 again with its own body, uncertain", again)
	}
	complete(t, other, again, 0)
	last := claimOne(t, other, "f3")
	if string(last.Body) != "card: changed" {
		t.Fatalf("f3 carries %q, want its body", last.Body)
	}
	complete(t, other, last, 0)
	// The same id enqueued again without Fresh is recognised.
	stale := edit("f1", "card: picked")
	stale.Fresh = false
	if r := enqueue(t, o, stale); r != storage.Known {
		t.Fatalf("f1 again = %q, want known", r)
	}
	if n, err := o.Pending(context.Background()); err != nil || n != 0 {
		t.Fatalf("Pending = %d, %v; want nothing left", n, err)
	}
}

func TestOutboxEditFindsTheMessageRecordedUnderItsRef(t *testing.T) {
	t.Parallel()
	o, _, _ := newOutbox(t, storage.OutboxLimits{})
	post := item("post", "-100", storage.OutboxSend, 1)
	post.Ref = "ballot:1:2"
	edit := item("edit", "-100", storage.OutboxEdit, 1)
	edit.EditRef = "ballot:1:2"
	enqueue(t, o, post)
	enqueue(t, o, edit)
	complete(t, o, claimOne(t, o, "post"), 9001)
	if d := claimOne(t, o, "edit"); d.RefMessage != 9001 {
		t.Fatalf("claimed %+v; want the edit with message 9001", d)
	}
	if n, err := o.RefMessage(context.Background(), "ballot:1:2"); err != nil || n != 9001 {
		t.Fatalf("RefMessage = %d, %v", n, err)
	}
}

func TestOutboxHandsAnExpiredClaimToTheNextClaimAsUncertain(t *testing.T) {
	t.Parallel()
	o, clk, replica := newOutbox(t, storage.OutboxLimits{})
	enqueue(t, o, item("x", "5", storage.OutboxSend, 0))
	first, _ := claim(t, o, 1)
	clk.Advance(2 * time.Minute)
	other := replica()
	second, _ := claim(t, other, 1)
	if len(second) != 1 || !second[0].Uncertain || second[0].Attempt != 2 {
		t.Fatalf("second claim = %+v; want the item again, uncertain, attempt 2", second)
	}
	if r, err := o.Complete(context.Background(), first[0], 1); err != nil || r != storage.Fenced {
		t.Fatalf("Complete by the lapsed claim = %q, %v; want fenced", r, err)
	}
	if r, err := other.Complete(context.Background(), second[0], 1); err != nil || r != storage.FinishedAgain {
		t.Fatalf("Complete by the new claim = %q, %v; want again", r, err)
	}
	enqueue(t, o, item("y", "5", storage.OutboxSend, 0))
	claimOne(t, o, "y") // the chat moved on
}

func TestOutboxRetryWaitsForTheChatAndHoldAllStopsEveryChat(t *testing.T) {
	t.Parallel()
	o, clk, _ := newOutbox(t, storage.OutboxLimits{})
	enqueue(t, o, item("a", "1", storage.OutboxSend, 0))
	ds, _ := claim(t, o, 1)
	if err := o.Retry(context.Background(), ds[0], clk.Now().Add(3*time.Second), false, false); err != nil {
		t.Fatal(err)
	}
	enqueue(t, o, item("b", "2", storage.OutboxSend, 0))
	got, _ := claim(t, o, 10)
	if len(got) != 1 || got[0].ID != "b" {
		t.Fatalf("claimed %v, want only b while a waits", deliveryIDs(got))
	}
	if err := o.Retry(context.Background(), got[0], clk.Now().Add(5*time.Second), true, false); err != nil {
		t.Fatal(err)
	}
	clk.Advance(4 * time.Second)
	if got, wait := claim(t, o, 10); len(got) != 0 || wait != time.Second {
		t.Fatalf("claimed %v (wait %v) during a hold-all; want nothing, 1s", deliveryIDs(got), wait)
	}
	clk.Advance(time.Second)
	if got, _ = claim(t, o, 10); len(got) != 2 {
		t.Fatalf("claimed %v after the hold, want a and b", deliveryIDs(got))
	}
	if err := o.Retry(context.Background(), storage.OutboxDelivery{ID: "a", Chat: "1", Token: -1}, clk.Now(), false, false); !errors.Is(err, storage.ErrNotHolder) {
		t.Fatalf("Retry with a stale token: %v, want ErrNotHolder", err)
	}
}

func TestOutboxMessageWaitingMinutesForAGroupSlotIsDeliveredOnceInOrder(t *testing.T) {
	t.Parallel()
	l := storage.DefaultOutboxLimits()
	o, clk, _ := newOutbox(t, l)
	const n = 100 // five windows of a group's 20 a minute
	for i := range n {
		enqueue(t, o, item(fmt.Sprintf("m%03d", i), "-1001", storage.OutboxSend, 1))
	}
	var got []string
	start := clk.Now()
	for step := 0; len(got) < n && step < 10000; step++ {
		ds, wait := claim(t, o, 10)
		for _, d := range ds {
			got = append(got, d.ID)
			complete(t, o, d, int64(len(got)))
		}
		if len(ds) == 0 {
			if wait <= 0 {
				t.Fatalf("nothing claimable and nothing to wait for, %d delivered", len(got))
			}
			clk.Advance(wait)
		}
	}
	if len(got) != n || !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != n {
		t.Fatalf("delivered %d items %v; want %d once each, in order", len(got), got, n)
	}
	if took := clk.Now().Sub(start); took < 4*l.GroupWindow {
		t.Errorf("100 messages to one group went out in %v; at 20 per %v they need at least %v", took, l.GroupWindow, 4*l.GroupWindow)
	}
}

// TestOutboxNoWindowEverHoldsMoreThanTelegramAllowsAcrossReplicas runs
// three replicas (restarted now and then: a new Outbox value with no
// memory) claiming from one Redis on a stepped clock, and checks every
// sliding window of the booked send times.
func TestOutboxNoWindowEverHoldsMoreThanTelegramAllowsAcrossReplicas(t *testing.T) {
	t.Parallel()
	l := storage.DefaultOutboxLimits()
	o, clk, replica := newOutbox(t, l)
	rnd := rand.New(rand.NewPCG(1, 2))
	chats := []string{"-1001", "-1002", "-1003"}
	for u := range 60 {
		chats = append(chats, fmt.Sprint(500+u))
	}
	const n = 1500
	for i := range n {
		kind := storage.OutboxSend
		if i%7 == 0 {
			kind = storage.OutboxEdit
		}
		enqueue(t, o, item(fmt.Sprintf("i%04d", i), chats[rnd.IntN(len(chats))], kind, rnd.IntN(2)))
	}
	replicas := []*storage.Outbox{o, replica(), replica()}
	type sent struct {
		at   time.Time
		chat string
		kind storage.OutboxKind
	}
	var log []sent
	for step := 0; len(log) < n && step < 200000; step++ {
		i := rnd.IntN(len(replicas))
		if rnd.IntN(200) == 0 {
			replicas[i] = replica() // a restart: nothing kept in the process
		}
		ds, wait := claim(t, replicas[i], 1+rnd.IntN(8))
		for _, d := range ds {
			log = append(log, sent{clk.Now(), d.Chat, d.Kind})
			complete(t, replicas[i], d, 1)
		}
		// A worker that claimed nothing sleeps until the outbox says
		// something may be sendable, and claims right at that edge of
		// a window.
		next := time.Duration(1+rnd.IntN(40)) * time.Millisecond
		if len(ds) == 0 && wait > next {
			next = wait
		}
		clk.Advance(next)
	}
	if len(log) != n {
		t.Fatalf("delivered %d of %d", len(log), n)
	}
	maxIn := func(times []time.Time, w time.Duration) int {
		best, j := 0, 0
		for i := range times {
			for times[i].Sub(times[j]) >= w {
				j++
			}
			best = max(best, i-j+1)
		}
		return best
	}
	var all []time.Time
	byChat := map[string][]time.Time{}
	for _, s := range log {
		all = append(all, s.at)
		if s.kind == storage.OutboxSend {
			byChat[s.chat] = append(byChat[s.chat], s.at)
		}
	}
	if got := maxIn(all, time.Second); got > 30 {
		t.Errorf("%d messages in one second overall, Telegram allows 30", got)
	}
	if got := maxIn(all, l.GlobalWindow); got > l.GlobalMax {
		t.Errorf("%d messages in %v, the outbox allows %d", got, l.GlobalWindow, l.GlobalMax)
	}
	for chat, times := range byChat {
		if chat[0] == '-' {
			if got := maxIn(times, time.Minute); got > 20 {
				t.Errorf("group %s: %d messages in one minute, Telegram allows 20", chat, got)
			}
		}
		if got := maxIn(times, 3*l.ChatInterval); got > l.ChatBurst+2 {
			t.Errorf("chat %s: %d messages in %v", chat, got, 3*l.ChatInterval)
		}
	}
}

// An edit queued the way the outbox kept coalescing edits before
// (an item hash with "coal" and its body under cb:<key>) is still claimed
// with its body, and its chat moves on.
func TestOutboxClaimsAnEditQueuedInTheEarlierForm(t *testing.T) {
	t.Parallel()
	rt := redistest.New(t)
	ctx := context.Background()
	o := storage.NewOutbox(rt.Client(), storage.NewKeys(rt.Prefix()), storage.OutboxLimits{})
	p := rt.Prefix() + ":{ob}:"
	c := rt.Client()
	c.HSet(ctx, p+"i:old", "chat", "42", "kind", "edit", "prio", "0", "coal", "e:42:7", "ref", "", "eref", "", "once", "0", "att", 0)
	c.Set(ctx, p+"cb:e:42:7", "card: old form", 0)
	c.RPush(ctx, p+"q:42", "old")
	c.ZAdd(ctx, p+"ready:0", redis.Z{Score: 0, Member: "42"})
	// A newer edit of the same message queues behind it.
	enqueue(t, o, editItem("new", "42", "e:42:7", "body-new", 0, true))
	old := claimOne(t, o, "old")
	if string(old.Body) != "card: old form" {
		t.Fatalf("the old item carries %q, want its body", old.Body)
	}
	complete(t, o, old, 0)
	newer := claimOne(t, o, "new")
	if string(newer.Body) != "body-new" {
		t.Fatalf("the newer edit carries %q, want its body", newer.Body)
	}
	complete(t, o, newer, 0)
	if n, err := o.Pending(ctx); err != nil || n != 0 {
		t.Fatalf("Pending = %d, %v; want nothing left", n, err)
	}
}

// A chat marked ready while its head item is being sent (a lapsed claim
// finished by the other made room for a new item meanwhile) is not
// claimed twice at once: the head's finish moves it on.
func TestOutboxNeverClaimsAChatWhoseHeadIsBeingSent(t *testing.T) {
	t.Parallel()
	rt := redistest.New(t)
	ctx := context.Background()
	o := storage.NewOutbox(rt.Client(), storage.NewKeys(rt.Prefix()), storage.OutboxLimits{})
	enqueue(t, o, item("a", "9", storage.OutboxSend, 0))
	enqueue(t, o, item("b", "9", storage.OutboxSend, 0))
	first := claimOne(t, o, "a")
	rt.Client().ZAdd(ctx, rt.Prefix()+":{ob}:ready:0", redis.Z{Score: 0, Member: "9"})
	if ds, _ := claim(t, o, 10); len(ds) != 0 {
		t.Fatalf("claimed %v while a was being sent", deliveryIDs(ds))
	}
	complete(t, o, first, 1)
	claimOne(t, o, "b")
}
