package storage_test

import (
	"context"
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/storage"
)

func TestCreateInvite(t *testing.T) {
	t.Parallel()
	s, c := newBloc(t, "BCA")
	ctx := context.Background()

	inv := s.invite(t, c.ID, "BCA", 7)
	if !regexp.MustCompile(`^[A-Za-z0-9_-]{22}$`).MatchString(inv.Token) {
		t.Errorf("token %q is not 22 characters of base64url", inv.Token)
	}
	want := domain.Invite{Token: inv.Token, Committee: c.ID, Unit: "BCA", By: 7, Created: at(0), Expires: at(domain.InviteTTL)}
	if diff := cmp.Diff(want, inv); diff != "" {
		t.Errorf("CreateInvite (-want +got):\n%s", diff)
	}
	if again, _ := s.CreateInvite(ctx, c.ID, "BCA", 7); again.Token == inv.Token {
		t.Errorf("two invites share token %q", inv.Token)
	}

	invite := func(id, unit string) func() error {
		return func() error { return errOf(s.CreateInvite(ctx, id, unit, 7)) }
	}
	wantRefusals(t, []refusal{
		{"unknown unit", invite(c.ID, "BQP"), storage.ErrNotFound},
		{"malformed unit", invite(c.ID, "b:q"), storage.ErrNotFound},
		{"unknown committee", invite("404", "BCA"), storage.ErrNotFound},
	})
}

func TestRedeemInvite(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// before runs after the invite is made and returns the token to
		// redeem.
		before func(t *testing.T, s *committees, id string, inv domain.Invite) string
		want   error
	}{
		{"fresh invite", nil, nil},
		{"just before expiry", func(t *testing.T, s *committees, _ string, inv domain.Invite) string {
			s.clock.Advance(domain.InviteTTL - time.Millisecond)
			return inv.Token
		}, nil},
		{"used by someone else", func(t *testing.T, s *committees, _ string, inv domain.Invite) string {
			redeem(t, s, inv.Token, 41)
			return inv.Token
		}, domain.ErrInviteUsed},
		{"used by the same user who left since", func(t *testing.T, s *committees, id string, inv domain.Invite) string {
			redeem(t, s, inv.Token, 42)
			if _, err := s.RemoveDelegate(context.Background(), id, 42, 42); err != nil {
				t.Fatal(err)
			}
			return inv.Token
		}, domain.ErrInviteUsed},
		{"expired", func(t *testing.T, s *committees, _ string, inv domain.Invite) string {
			s.clock.Advance(domain.InviteTTL)
			return inv.Token
		}, domain.ErrInviteExpired},
		{"used and expired", func(t *testing.T, s *committees, _ string, inv domain.Invite) string {
			redeem(t, s, inv.Token, 41)
			s.clock.Advance(domain.InviteTTL + time.Hour)
			return inv.Token
		}, domain.ErrInviteUsed},
		{"forged token", func(*testing.T, *committees, string, domain.Invite) string {
			return "AAAAAAAAAAAAAAAAAAAAAA"
		}, storage.ErrNotFound},
		{"token with key syntax", func(*testing.T, *committees, string, domain.Invite) string {
			return "x}:{c:1}"
		}, storage.ErrNotFound},
		{"empty token", func(*testing.T, *committees, string, domain.Invite) string { return "" }, storage.ErrNotFound},
		{"revoked", func(t *testing.T, s *committees, id string, inv domain.Invite) string {
			if n, err := s.RevokeInvites(context.Background(), id, "BCA"); err != nil || n != 1 {
				t.Fatalf("RevokeInvites = %d, %v; want 1", n, err)
			}
			return inv.Token
		}, storage.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, c, inv := newBlocInvite(t)
			ctx := context.Background()
			token := inv.Token
			if tt.before != nil {
				token = tt.before(t, s, c.ID, inv)
			}

			gotC, gotD, err := s.RedeemInvite(ctx, token, domain.Delegate{UserID: 42, Name: "Lan", Username: "lan_vn", Unit: "IGNORED"})
			if !errors.Is(err, tt.want) {
				t.Fatalf("RedeemInvite = %v, want %v", err, tt.want)
			}
			if tt.want != nil {
				if _, err := s.DelegateOf(ctx, c.ID, 42); !errors.Is(err, storage.ErrNotFound) {
					t.Errorf("refused redeemer is a delegate: DelegateOf = %v", err)
				}
				return
			}
			wantD := domain.Delegate{UserID: 42, Unit: "BCA", Name: "Lan", Username: "lan_vn", Joined: s.clock.Now()}
			if diff := cmp.Diff(wantD, gotD); diff != "" {
				t.Errorf("delegate (-want +got):\n%s", diff)
			}
			if gotC.ID != c.ID || gotC.ChatID != -1 {
				t.Errorf("committee = %+v, want %s", gotC, c.ID)
			}
			if d, err := s.DelegateOf(ctx, c.ID, 42); err != nil || !cmp.Equal(wantD, d) {
				t.Errorf("DelegateOf = %+v, %v; want %+v", d, err, wantD)
			}
			if ids, err := s.UserCommittees(ctx, 42); err != nil || !cmp.Equal([]string{c.ID}, ids) {
				t.Errorf("UserCommittees = %v, %v; want [%s]", ids, err, c.ID)
			}

			// Repeating the /start (or a retry after "not recorded") is
			// harmless: same delegate, no error, the join time kept.
			s.clock.Advance(time.Minute)
			_, again, err := s.RedeemInvite(ctx, token, domain.Delegate{UserID: 42, Name: "Lan"})
			if err != nil || !cmp.Equal(wantD, again) {
				t.Errorf("RedeemInvite again = %+v, %v; want %+v, nil", again, err, wantD)
			}
			// …but nobody else may use it.
			wantRedeemRefused(t, s, token, 43, domain.ErrInviteUsed, "by another user")
		})
	}
}

func redeem(t *testing.T, s *committees, token string, userID int64) {
	t.Helper()
	if _, _, err := s.RedeemInvite(context.Background(), token, domain.Delegate{UserID: userID}); err != nil {
		t.Fatalf("RedeemInvite by %d: %v", userID, err)
	}
}

// wantRedeemRefused fails the test unless userID's redeeming of token is
// refused with want; what says which redeem it is.
func wantRedeemRefused(t *testing.T, s *committees, token string, userID int64, want error, what string) {
	t.Helper()
	if _, _, err := s.RedeemInvite(context.Background(), token, domain.Delegate{UserID: userID}); !errors.Is(err, want) {
		t.Errorf("RedeemInvite %s = %v, want %v", what, err, want)
	}
}

// newBlocInvite returns a Committees store holding Bloc (newBloc) with
// unit BCA, and an invite to BCA made by user 7.
func newBlocInvite(t *testing.T) (*committees, domain.Committee, domain.Invite) {
	t.Helper()
	s, c := newBloc(t, "BCA")
	return s, c, s.invite(t, c.ID, "BCA", 7)
}

func TestRedeemInviteConcurrentlyMakesOneDelegate(t *testing.T) {
	t.Parallel()
	s, c, inv := newBlocInvite(t)
	ctx := context.Background()
	errs := atOnce(20, func(i int) error {
		_, _, err := s.RedeemInvite(ctx, inv.Token, domain.Delegate{UserID: int64(1000 + i)})
		return err
	})
	ok := countWins(t, errs, domain.ErrInviteUsed)
	ds, err := s.UnitDelegates(ctx, c.ID, "BCA")
	if ok != 1 || err != nil || len(ds) != 1 {
		t.Errorf("%d redeems succeeded, delegates %+v (%v); want exactly one", ok, ds, err)
	}
}

// An existing delegate of the invite's unit does not use the invite up, so
// the secretariat's link still works for the person it was meant for.
func TestRedeemInviteByADelegateOfTheUnitKeepsItOpen(t *testing.T) {
	t.Parallel()
	s, c := newBloc(t, "BCA")
	ctx := context.Background()
	first := s.join(t, c.ID, "BCA", 42)
	inv := s.invite(t, c.ID, "BCA", 7)
	s.clock.Advance(time.Minute)
	if _, d, err := s.RedeemInvite(ctx, inv.Token, domain.Delegate{UserID: 42}); err != nil || !cmp.Equal(first, d) {
		t.Errorf("RedeemInvite by a delegate of the unit = %+v, %v; want %+v unchanged", d, err, first)
	}
	redeem(t, s, inv.Token, 43)
}

func TestRevokeInvites(t *testing.T) {
	t.Parallel()
	s, c := newBloc(t, "BCA", "BQP")
	ctx := context.Background()
	var bca []domain.Invite
	for range 3 {
		inv := s.invite(t, c.ID, "BCA", 7)
		bca = append(bca, inv)
	}
	bqp := s.invite(t, c.ID, "BQP", 7)
	redeem(t, s, bca[0].Token, 41)

	if n, err := s.RevokeInvites(ctx, c.ID, "BCA"); err != nil || n != 2 {
		t.Fatalf("RevokeInvites = %d, %v; want the 2 unused", n, err)
	}
	for _, inv := range bca[1:] {
		wantRedeemRefused(t, s, inv.Token, 50, storage.ErrNotFound, "revoked")
		if n, _ := s.rt.Client().Exists(ctx, s.keys.InviteCommittee(inv.Token)).Result(); n != 0 {
			t.Errorf("global key of revoked token %s still exists", inv.Token)
		}
	}
	wantRedeemRefused(t, s, bca[0].Token, 50, domain.ErrInviteUsed, "used, not revoked")
	redeem(t, s, bqp.Token, 51)
	if n, err := s.RevokeInvites(ctx, c.ID, "BCA"); err != nil || n != 0 {
		t.Errorf("RevokeInvites again = %d, %v; want 0", n, err)
	}
	if n, err := s.RevokeInvites(ctx, "404", "BCA"); err != nil || n != 0 {
		t.Errorf("RevokeInvites(unknown committee) = %d, %v; want 0", n, err)
	}
}

// Invites are remembered for a while after expiry (to say "expired"), then
// pruned when new invites are made.
func TestOldInvitesArePruned(t *testing.T) {
	t.Parallel()
	s, c, old := newBlocInvite(t)
	ctx := context.Background()
	redeem(t, s, old.Token, 41)
	s.clock.Advance(domain.InviteTTL + 29*24*time.Hour)
	if _, err := s.CreateInvite(ctx, c.ID, "BCA", 7); err != nil {
		t.Fatal(err)
	}
	wantRedeemRefused(t, s, old.Token, 50, domain.ErrInviteUsed, "within the grace period")
	s.clock.Advance(2 * 24 * time.Hour)
	if _, err := s.CreateInvite(ctx, c.ID, "BCA", 7); err != nil {
		t.Fatal(err)
	}
	wantRedeemRefused(t, s, old.Token, 50, storage.ErrNotFound, "after pruning")
	// Two invites remain; the pruned one left no "used" field behind, nor
	// an entry in the prune index.
	if n, err := s.rt.Client().HLen(ctx, s.keys.Invites(c.ID)).Result(); err != nil || n != 2 {
		t.Errorf("invites hash has %d fields, %v; want 2", n, err)
	}
	if n, err := s.rt.Client().ZCard(ctx, s.keys.InvitePrune(c.ID)).Result(); err != nil || n != 2 {
		t.Errorf("prune index has %d tokens, %v; want 2", n, err)
	}
}

// Invites kept before the prune index existed (a committee of an earlier
// version) are indexed by the next invite made, and pruned in their time.
func TestInvitesKeptBeforeThePruneIndexArePrunedToo(t *testing.T) {
	t.Parallel()
	s, c, old := newBlocInvite(t)
	ctx := context.Background()
	s.clock.Advance(24 * time.Hour)
	recent, err := s.CreateInvite(ctx, c.ID, "BCA", 7)
	if err != nil {
		t.Fatal(err)
	}
	// As an earlier version left them: the invites, no index.
	if err := s.rt.Client().Del(ctx, s.keys.InvitePrune(c.ID)).Err(); err != nil {
		t.Fatal(err)
	}
	// The old invite is past its grace period, the recent one not: the
	// next invite prunes the first and indexes the second.
	s.clock.Advance(domain.InviteTTL + 30*24*time.Hour - 12*time.Hour)
	if _, err := s.CreateInvite(ctx, c.ID, "BCA", 7); err != nil {
		t.Fatal(err)
	}
	wantRedeemRefused(t, s, old.Token, 50, storage.ErrNotFound, "past the grace period")
	wantRedeemRefused(t, s, recent.Token, 50, domain.ErrInviteExpired, "within the grace period")
	if n, err := s.rt.Client().ZCard(ctx, s.keys.InvitePrune(c.ID)).Result(); err != nil || n != 2 {
		t.Errorf("prune index has %d tokens, %v; want the recent invite and the new one", n, err)
	}
	// Its time comes: the index prunes it.
	s.clock.Advance(24 * time.Hour)
	if _, err := s.CreateInvite(ctx, c.ID, "BCA", 7); err != nil {
		t.Fatal(err)
	}
	wantRedeemRefused(t, s, recent.Token, 50, storage.ErrNotFound, "past the grace period, from the index")
	if n, err := s.rt.Client().HLen(ctx, s.keys.Invites(c.ID)).Result(); err != nil || n != 2 {
		t.Errorf("invites hash has %d fields, %v; want the 2 new invites", n, err)
	}
}
