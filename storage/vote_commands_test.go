package storage_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/storage"
	"github.com/committeebot/committeebot/storage/redistest"
)

// commandsSince counts the commands the server ran (those run by scripts
// included, INFO commandstats) since the last call, leaving out the INFO
// and CONFIG RESETSTAT of the count itself.
func commandsSince(t *testing.T, rt *redistest.Instance) map[string]int {
	t.Helper()
	ctx := context.Background()
	info, err := rt.Client().Info(ctx, "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, line := range strings.Split(info, "\n") {
		name, stats, ok := strings.Cut(strings.TrimSpace(line), ":")
		name, isCmd := strings.CutPrefix(name, "cmdstat_")
		if !ok || !isCmd || name == "info" || strings.HasPrefix(name, "config") {
			continue
		}
		calls, _, _ := strings.Cut(strings.TrimPrefix(stats, "calls="), ",")
		n, _ := strconv.Atoi(calls)
		got[name] = n
	}
	if err := rt.Client().ConfigResetStat(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

func total(m map[string]int) int {
	n := 0
	for _, c := range m {
		n += c
	}
	return n
}

// A vote — the cast with its checks, and the queueing of the receipt (the
// edit of the voter's ballot message) — takes at most ten Redis commands,
// those inside scripts included: when the post's edit slot is taken by the
// vote and the message's last edit has already left (a quiet bot), and
// when an edit of the message still waits (a burst: 8). Either way in two
// round trips, the cast and the enqueue script. (The update needs no
// claim: the cast id comes from it; the voter's language is kept in the
// process, see TestLanguagesAreKeptUntilChanged.)
func TestAVoteAndItsReceiptTakeAtMostTenCommands(t *testing.T) {
	t.Parallel()
	rt := redistest.New(t, redistest.WithOwnServer())
	f := newBallotFixtureOn(t, rt, "AA", "BB", "CC")
	ctx := context.Background()
	box := storage.NewOutbox(rt.Client(), storage.NewKeys(rt.Prefix()), storage.OutboxLimits{})
	b := f.openMotion(t, false, domain.ElectorateMembers, "11", "12", "13", "14")
	for _, u := range []int64{11, 12, 13, 14} {
		f.join(t, f.c.ID, []string{"AA", "BB", "CC", "AA"}[u-11], u)
	}
	if err := f.ballots.SetPost(ctx, f.c.ID, b.ID, -100, 5); err != nil {
		t.Fatal(err)
	}
	vote := func(user int64) storage.CastResult {
		t.Helper()
		res, err := f.ballots.CastOpen(ctx, b, storage.Submission{UserID: user, Voter: strconv.FormatInt(user, 10),
			Choice: domain.Choice{"1": domain.OptYes}, Token: "q" + strconv.FormatInt(user, 10), PostEvery: 3 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	receipt := func(user int64, id string) storage.EnqueueResult {
		t.Helper()
		chat := strconv.FormatInt(user, 10)
		r, err := box.Enqueue(ctx, storage.OutboxItem{ID: id, Chat: chat, Kind: storage.OutboxEdit, Priority: storage.PriorityAnswer,
			Body: []byte("receipt of " + id), Coalesce: "e:" + chat + ":7", Fresh: true})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	// The scripts are loaded, and the client's connections made, first.
	vote(14)
	receipt(14, "warm")
	f.committees.clock.Advance(4 * time.Second) // the post's edit slot frees
	commandsSince(t, rt)

	// A quiet bot: the vote takes the post's edit slot, and the ballot
	// message has no edit waiting.
	if res := vote(11); !res.Post.Free || res.Voted != 2 {
		t.Fatalf("first vote = %+v; want the post's edit slot and 2 voted", res)
	}
	if r := receipt(11, "u1#1"); r != storage.Queued {
		t.Fatalf("receipt = %q, want queued", r)
	}
	if got := commandsSince(t, rt); total(got) > 10 {
		t.Errorf("a vote on a quiet bot: %d commands %v; want at most 10", total(got), got)
	}

	// A burst: the voter's review screen still waits to be sent, so the
	// receipt replaces it.
	if r := receipt(12, "u2#1"); r != storage.Queued {
		t.Fatalf("review = %q, want queued", r)
	}
	commandsSince(t, rt)
	if res := vote(12); res.Post.Free || res.Voted != 3 {
		t.Fatalf("second vote = %+v; want the slot taken and 3 voted", res)
	}
	if r := receipt(12, "u2#2"); r != storage.Merged {
		t.Fatalf("receipt = %q, want merged", r)
	}
	if got := commandsSince(t, rt); total(got) > 8 {
		t.Errorf("a vote in a burst: %d commands %v; want at most 8", total(got), got)
	}
	// The count the cast keeps is the voted hash's.
	if n := rt.Client().HLen(ctx, storage.NewKeys(rt.Prefix()).BallotPart(f.c.ID, b.ID, "voted")).Val(); n != 3 {
		t.Errorf("voted hash holds %d, want 3", n)
	}
}

// A ballot opened before the ballot's hash kept the count is counted from
// the voted hash, and keeps the count from then on.
func TestCastCountsABallotOpenedWithoutTheCount(t *testing.T) {
	t.Parallel()
	f := newBallotFixture(t, "AA", "BB")
	ctx := context.Background()
	b := f.openSecretMotion(t)
	key := f.keys.Ballot(f.c.ID, b.ID)
	cast := func(user int64, voter string) storage.CastResult {
		t.Helper()
		_, res, err := f.ballots.CastSecret(ctx, b, storage.Submission{UserID: user, Voter: voter, Choice: domain.Choice{"1": domain.OptYes}, Token: voter})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	cast(11, "AA")
	if err := f.rt.Client().HDel(ctx, key, "nvoted").Err(); err != nil {
		t.Fatal(err)
	}
	if res := cast(21, "BB"); res.Voted != 2 {
		t.Errorf("a vote on a ballot without the count: %d voted, want 2", res.Voted)
	}
	if n, _ := f.rt.Client().HGet(ctx, key, "nvoted").Int(); n != 2 {
		t.Errorf("nvoted = %d after the vote, want 2", n)
	}
}
