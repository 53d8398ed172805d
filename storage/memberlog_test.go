package storage_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/committeebot/committeebot/domain"
)

func TestMemberHistoryRecordsJoinsMovesLeavesAndRemovals(t *testing.T) {
	t.Parallel()
	s, c := newBloc(t, "BCA", "BQP", "BTP")
	ctx := context.Background()
	inv := s.invite(t, c.ID, "BCA", 100)
	// A name with quotes, a backslash and Vietnamese letters must survive
	// the script's concatenation as JSON.
	odd := `Lê "Ba" \ Văn`
	if _, _, err := s.RedeemInvite(ctx, inv.Token, domain.Delegate{UserID: 41, Name: odd}); err != nil {
		t.Fatal(err)
	}
	s.clock.Advance(time.Minute)
	s.join(t, c.ID, "BQP", 42)
	s.clock.Advance(time.Minute)
	s.join(t, c.ID, "BTP", 42) // a move
	s.clock.Advance(time.Minute)
	s.join(t, c.ID, "BTP", 42) // a repeated /start: no change, nothing logged
	s.join(t, c.ID, "BQP", 43)
	s.clock.Advance(time.Minute)
	if _, err := s.RemoveDelegate(ctx, c.ID, 43, 43); err != nil { // /leave
		t.Fatal(err)
	}
	if _, err := s.RemoveDelegate(ctx, c.ID, 41, 100); err != nil { // /delegate_remove
		t.Fatal(err)
	}
	if _, err := s.RemoveDelegate(ctx, c.ID, 41, 100); err == nil {
		t.Fatal("removing a removed delegate succeeded")
	}
	s.clock.Advance(time.Minute)
	if _, err := s.RemoveUnit(ctx, c.ID, "BTP", 100); err != nil {
		t.Fatal(err)
	}

	got, err := s.MemberHistory(ctx, c.ID)
	if err != nil {
		t.Fatalf("MemberHistory: %v", err)
	}
	want := []domain.MemberChange{
		{Event: domain.MemberJoined, UserID: 41, Name: odd, To: "BCA", At: at(0)},
		{Event: domain.MemberJoined, UserID: 42, Name: "User 42", To: "BQP", At: at(time.Minute)},
		{Event: domain.MemberMoved, UserID: 42, Name: "User 42", From: "BQP", To: "BTP", At: at(2 * time.Minute)},
		{Event: domain.MemberJoined, UserID: 43, Name: "User 43", To: "BQP", At: at(3 * time.Minute)},
		{Event: domain.MemberLeft, UserID: 43, Name: "User 43", From: "BQP", By: 43, At: at(4 * time.Minute)},
		{Event: domain.MemberRemoved, UserID: 41, Name: odd, From: "BCA", By: 100, At: at(4 * time.Minute)},
		{Event: domain.MemberUnitRemoved, UserID: 42, Name: "User 42", From: "BTP", By: 100, At: at(5 * time.Minute)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("MemberHistory (-want +got):\n%s", diff)
	}
}

func TestMemberHistoryReadsMovesLoggedBeforeEvents(t *testing.T) {
	t.Parallel()
	s, c := newBloc(t, "BCA")
	ctx := context.Background()
	// The record the invite script wrote before joins and removals were
	// logged.
	old := `{"user":42,"from":"BCA","to":"BQP","at":` + strconv.FormatInt(at(0).UnixMilli(), 10) + `}`
	if err := s.rt.Client().RPush(ctx, s.keys.MemberLog(c.ID), old).Err(); err != nil {
		t.Fatal(err)
	}
	got, err := s.MemberHistory(ctx, c.ID)
	want := []domain.MemberChange{{Event: domain.MemberMoved, UserID: 42, From: "BCA", To: "BQP", At: at(0)}}
	if err != nil || !cmp.Equal(want, got) {
		t.Errorf("MemberHistory = %+v, %v; want %+v", got, err, want)
	}
}
